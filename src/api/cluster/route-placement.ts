/**
 * Where a cluster runs a route's requests, declared by the route in `config: { placement }` as
 * its role is (registerClusterRouting reads it; a route without one is served where it lands):
 *  - `worker`: on the node that holds the worker named by the `:id` param;
 *  - `new-worker`: a worker create, placed on the least loaded live node;
 *  - `job`: a job run, here unless this node is busy, else on the jobs queue group.
 */
export type RoutePlacement = 'worker' | 'new-worker' | 'job';
