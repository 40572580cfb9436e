/**
 * The two clocks a cluster member reads. Wall time only goes into records for people to read
 * (`heartbeatAt`); every judgement of liveness is made on this machine's monotonic clock, because
 * another machine's wall clock may be seconds (or hours) off ours. Tests inject skewed or
 * hand-driven clocks.
 */
export interface ClusterClock {
  /** Milliseconds since the epoch, as this machine believes. */
  wall(): number;
  /** Local monotonic milliseconds (never compared across machines, never goes back). */
  monotonic(): number;
}

export const systemClock: ClusterClock = {
  wall: () => Date.now(),
  monotonic: () => performance.now(),
};
