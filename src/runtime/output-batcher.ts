/**
 * Collects a guest's small writes into chunks before they cross to the API thread: posting a
 * message per 16-byte fd_write would cost more than the write. A chunk goes when it reaches
 * `maxBytes` or when `maxDelayMs` passed since the last send (checked on each write, since a
 * running guest gives the event loop no turn).
 */
export class OutputBatcher {
  private parts: Uint8Array[] = [];
  private size = 0;
  private lastSent = Date.now();

  constructor(
    private readonly send: (chunk: Uint8Array) => void,
    private readonly maxBytes = 64 * 1024,
    private readonly maxDelayMs = 50,
  ) {}

  write(chunk: Uint8Array): void {
    // The WASI host may reuse its buffer: copy.
    this.parts.push(chunk.slice());
    this.size += chunk.byteLength;
    if (this.size >= this.maxBytes || Date.now() - this.lastSent >= this.maxDelayMs) this.flush();
  }

  flush(): void {
    const chunk = this.take();
    if (chunk) this.send(chunk);
  }

  /** The bytes not sent yet (null if none), handed to the caller instead of sent: a job's last output rides on its `done` reply. */
  take(): Uint8Array | null {
    if (this.size === 0) return null;
    const chunk = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    this.lastSent = Date.now();
    return chunk;
  }
}
