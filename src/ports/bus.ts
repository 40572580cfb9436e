/** Payloads are JSON-able objects, optionally with binary bodies (base64 on the wire in NATS). */
export type BusPayload = Record<string, unknown>;

export type BusHandler = (payload: BusPayload, subject: string) => Promise<BusPayload>;

/**
 * Request/reply and events between the parts of Warren. Embedded: in-process. Cluster: NATS
 * subjects (`warren.node.<id>.>` for calls to the node holding a worker, queue groups for jobs).
 */
export interface Bus {
  request(subject: string, payload: BusPayload, opts?: { timeoutMs?: number }): Promise<BusPayload>;
  /** Serve a subject; with `queue`, one member of the group answers each request. */
  serve(subject: string, handler: BusHandler, opts?: { queue?: string }): Promise<() => void>;
  publish(subject: string, payload: BusPayload): Promise<void>;
  subscribe(subject: string, onEvent: (payload: BusPayload, subject: string) => void): Promise<() => void>;
  close(): Promise<void>;
}
