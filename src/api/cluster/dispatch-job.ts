import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WarrenNode } from '../../services/warren-node.js';
import { isReplyTooLarge, isRetryableForward } from './forward-errors.js';
import { JOBS_SUBJECT, requestBodyBytes, sendForwardedReply, toForwardedRequest } from './forwarded-http.js';

/**
 * `POST /v1/jobs/{fq}/run` in a cluster. A node that has a free job thread runs the job itself
 * (no hop, and output streams as it is produced). A busy one (as many jobs running as it has
 * job threads) hands it to the `warren.jobs` queue group, where NATS gives it to one member
 * at random (possibly this node again: then it waits in this node's queue, as it would have).
 * A forwarded job's stdin and stdout each travel in one bus message, so the job runs here
 * instead when its stdin is over the forward limit, when nobody answers, or when its output
 * came back too large for the bus (the job then runs twice: jobs keep nothing, so only time is
 * lost). Returns the reply when another node answered, undefined to run here.
 */
export async function dispatchJob(node: WarrenNode, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  const member = node.cluster!;
  if (member.jobsRunning < node.ctx.pool.jobThreads) return undefined;
  const body = requestBodyBytes(request);
  if (body.length > member.options.forwardBodyLimitBytes) return undefined;
  try {
    const answer = await node.ctx.ports.bus.request(JOBS_SUBJECT, { ...toForwardedRequest(request, node.ctx.nodeId, body) }, { timeoutMs: member.options.forwardTimeoutMs });
    return sendForwardedReply(reply, answer);
  } catch (err) {
    if (isRetryableForward(err) || isReplyTooLarge(err)) {
      request.log.info({ err }, 'job could not go to the queue group; running it here');
      return undefined;
    }
    throw err;
  }
}
