import { WarrenError } from '../../errors.js';
import type { Bus, BusHandler, BusPayload } from '../bus.js';

/** NATS-style subject matching: `*` is one token, `>` the rest. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length || (p[i] !== '*' && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}

/** The in-process bus of the embedded mode: a request goes to the first matching server. */
export class LocalBus implements Bus {
  private readonly servers: { pattern: string; handler: BusHandler }[] = [];
  private readonly subscribers = new Set<{ pattern: string; onEvent: (p: BusPayload, s: string) => void }>();

  async request(subject: string, payload: BusPayload): Promise<BusPayload> {
    const server = this.servers.find((s) => subjectMatches(s.pattern, subject));
    if (!server) throw new WarrenError('E_UNAVAILABLE', `no responder for ${subject}`, { subject });
    return server.handler(payload, subject);
  }

  async serve(subject: string, handler: BusHandler): Promise<() => void> {
    const entry = { pattern: subject, handler };
    this.servers.push(entry);
    return () => {
      const i = this.servers.indexOf(entry);
      if (i >= 0) this.servers.splice(i, 1);
    };
  }

  async publish(subject: string, payload: BusPayload): Promise<void> {
    for (const s of this.subscribers) if (subjectMatches(s.pattern, subject)) s.onEvent(payload, subject);
  }

  async subscribe(subject: string, onEvent: (payload: BusPayload, subject: string) => void): Promise<() => void> {
    const entry = { pattern: subject, onEvent };
    this.subscribers.add(entry);
    return () => this.subscribers.delete(entry);
  }

  async close(): Promise<void> {
    this.servers.length = 0;
    this.subscribers.clear();
  }
}
