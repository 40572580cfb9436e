import type { FastifyReply, FastifyRequest } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { WarrenError, isWarrenError } from '../../errors.js';
import type { WorkerRecord } from '../../records.js';
import type { WarrenNode } from '../../services/warren-node.js';
import { workerKey } from '../../services/workers/worker-keys.js';
import { bodyTooLarge, isForwardTimeout, isReplyTooLarge, isRetryableForward, replyTooLarge } from './forward-errors.js';
import { nodeHttpSubject, requestBodyBytes, sendForwardedReply, toForwardedRequest } from './forwarded-http.js';

/**
 * A request for one worker, on any node: served here when the worker's record names this node,
 * otherwise forwarded to `warren.node.<node>.http`. While the worker's node is dead (nobody
 * serves its subject) or its worker is being claimed by another node, the call is retried for
 * up to `forwardRetryMs`, following the record, then fails with E_UNAVAILABLE: a call is
 * answered or refused, never dropped. A forward that timed out is only retried when its node is
 * dead by then (a live node may still be running it: running it twice would be worse).
 * Returns the reply when it answered, undefined to let the local route handle the request.
 */
export async function routeWorkerRequest(node: WarrenNode, request: FastifyRequest, reply: FastifyReply, workerId: string): Promise<FastifyReply | undefined> {
  const member = node.cluster!;
  const { registry, bus } = node.ctx.ports;
  const opts = member.options;
  const deadline = Date.now() + opts.forwardRetryMs;
  let body: Buffer | null = null;
  let lastReason = '';
  for (let attempt = 0; ; attempt++) {
    const entry = await registry.get<WorkerRecord>(workerKey(workerId));
    if (!entry || entry.value.status === 'deleted') return undefined; // the route answers 404
    const target = entry.value.node;
    if (target === node.ctx.nodeId) {
      if (!member.monitor.adopting.has(workerId)) return undefined;
      lastReason = 'it is being resumed here after a failover';
    } else {
      const status = await member.node(target);
      const url = status?.url ?? '';
      body ??= requestBodyBytes(request);
      if (body.length > opts.forwardBodyLimitBytes) throw bodyTooLarge(body.length, opts.forwardBodyLimitBytes, target, url);
      try {
        const answer = await bus.request(nodeHttpSubject(target), { ...toForwardedRequest(request, node.ctx.nodeId, body, workerId) }, { timeoutMs: opts.forwardTimeoutMs });
        return sendForwardedReply(reply, answer);
      } catch (err) {
        if (isReplyTooLarge(err)) throw replyTooLarge(err as WarrenError, target, url);
        const retry = isRetryableForward(err) || (isForwardTimeout(err) && !(await member.node(target))?.alive);
        if (!retry) throw err;
        lastReason = `its node ${target} is not answering (${isWarrenError(err) ? err.message : String(err)})`;
      }
    }
    if (Date.now() >= deadline) {
      throw new WarrenError('E_UNAVAILABLE', `worker ${workerId} is unavailable: ${lastReason}; a dead node's workers move to another node once its heartbeat is ${opts.deadAfterMs} ms old: retry`, {
        worker: workerId,
        node: target,
        retriedMs: opts.forwardRetryMs,
      });
    }
    await sleep(Math.min(100 * 2 ** Math.min(attempt, 3), Math.max(0, deadline - Date.now())));
  }
}
