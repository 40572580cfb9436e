import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { WarrenError } from '../../errors.js';
import type { Bus, BusHandler, BusPayload } from '../bus.js';
import { decodePayload, encodePayload, errorReply, throwIfErrorReply } from './bus-wire-codec.js';
import { fromNatsError, isNoResponders, isUnavailable } from './nats-errors.js';

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * The cluster bus: NATS subjects on one connection. Payloads are JSON (binary as base64, see
 * bus-wire-codec.ts); a payload larger than the server's max_payload is refused before sending
 * with E_BAD_REQUEST. `serve` with a queue joins a NATS queue group: one member answers each request.
 * `serve` and `subscribe` resolve once the server has the subscription, so a request or publish
 * made right after reaches it.
 */
export class NatsBus implements Bus {
  private readonly subs = new Set<Subscription>();

  constructor(private readonly nc: NatsConnection) {}

  async request(subject: string, payload: BusPayload, opts: { timeoutMs?: number } = {}): Promise<BusPayload> {
    const data = this.encodeChecked(payload, subject);
    let msg: Msg;
    try {
      msg = await this.nc.request(subject, data, { timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS });
    } catch (err) {
      if (isUnavailable(err)) {
        const why = isNoResponders(err) ? 'no responder' : 'no reply in time';
        throw new WarrenError('E_UNAVAILABLE', `${why} for ${subject}`, { subject });
      }
      throw fromNatsError(err, `request ${subject}`, { subject });
    }
    const reply = decodePayload(msg.data);
    throwIfErrorReply(reply, subject);
    return reply;
  }

  async serve(subject: string, handler: BusHandler, opts: { queue?: string } = {}): Promise<() => void> {
    const sub = this.nc.subscribe(subject, {
      queue: opts.queue,
      callback: (err, msg) => {
        if (err) return;
        void this.answer(msg, handler);
      },
    });
    return this.track(sub);
  }

  async publish(subject: string, payload: BusPayload): Promise<void> {
    this.nc.publish(subject, this.encodeChecked(payload, subject));
  }

  async subscribe(subject: string, onEvent: (payload: BusPayload, subject: string) => void): Promise<() => void> {
    const sub = this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return;
        let payload: BusPayload;
        try {
          payload = decodePayload(msg.data);
        } catch {
          return; // not ours to deliver: a malformed event is dropped
        }
        onEvent(payload, msg.subject);
      },
    });
    return this.track(sub);
  }

  async close(): Promise<void> {
    for (const sub of this.subs) sub.unsubscribe();
    this.subs.clear();
    if (!this.nc.isClosed()) await this.nc.flush().catch(() => undefined);
  }

  private async answer(msg: Msg, handler: BusHandler): Promise<void> {
    if (!msg.reply) return; // a publish on a served subject: nobody waits for an answer
    let reply: Uint8Array;
    try {
      reply = this.encodeChecked(await handler(decodePayload(msg.data), msg.subject), msg.subject);
    } catch (err) {
      reply = encodePayload(errorReply(err) as unknown as BusPayload);
    }
    try {
      msg.respond(reply);
    } catch {
      // the connection closed while the handler ran; the requester times out
    }
  }

  private async track(sub: Subscription): Promise<() => void> {
    this.subs.add(sub);
    await this.nc.flush();
    return () => {
      sub.unsubscribe();
      this.subs.delete(sub);
    };
  }

  private encodeChecked(payload: BusPayload, subject: string): Uint8Array {
    const data = encodePayload(payload);
    const max = this.nc.info?.max_payload ?? 1024 * 1024;
    if (data.byteLength > max) {
      throw new WarrenError('E_BAD_REQUEST', `bus message for ${subject} is ${data.byteLength} bytes, over the server's max_payload of ${max}; put large bodies in Blobs and send the integrity`, {
        subject,
        bytes: data.byteLength,
        maxPayload: max,
      });
    }
    return data;
  }
}
