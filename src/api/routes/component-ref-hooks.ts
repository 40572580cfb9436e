import type { FastifyInstance, FastifyRequest } from 'fastify';
import { WarrenError } from '../../errors.js';

/**
 * `fq@version`, as the CLI takes it, split into the fq and the version the routes read. The ref
 * form and an explicit version must agree; `fq` alone leaves the version as it was.
 */
export function splitComponentRef(ref: string, version: string | undefined): { fq: string; version: string | undefined } {
  const at = ref.indexOf('@');
  if (at === -1) return { fq: ref, version };
  const fq = ref.slice(0, at);
  const named = ref.slice(at + 1);
  if (named === '') throw new WarrenError('E_VERSION_INVALID', `component ${JSON.stringify(ref)} names no version after @`, { component: ref });
  if (version !== undefined && version !== named) {
    throw new WarrenError('E_BAD_REQUEST', `component ${ref} and version ${version} disagree: give the version once`, { component: ref, version });
  }
  return { fq, version: named };
}

/**
 * Worker creates (`{"component": "sh.warren.counter@1.0.0"}`) and job runs
 * (`/v1/jobs/sh.serval.loudify@1.0.0/run`) take a component ref as the CLI does; a route says
 * where its ref is in `config: { componentRef }` ('body': `component` with `version` beside it;
 * 'params': `:fq` with `?version=`). Split before validation, so the schemas, the cluster's
 * placement (a preHandler) and the services see the fq and the version apart.
 */
export function acceptComponentRefs(app: FastifyInstance): void {
  app.addHook('preValidation', async (request: FastifyRequest) => {
    const where = request.routeOptions.config.componentRef;
    if (where === 'body') {
      const body = request.body as { component?: unknown; version?: unknown } | undefined;
      if (!body || typeof body.component !== 'string' || !body.component.includes('@')) return;
      const split = splitComponentRef(body.component, typeof body.version === 'string' ? body.version : undefined);
      body.component = split.fq;
      body.version = split.version;
    } else if (where === 'params') {
      const params = request.params as { fq: string };
      if (!params.fq.includes('@')) return;
      const query = request.query as { version?: string };
      const split = splitComponentRef(params.fq, query.version);
      params.fq = split.fq;
      query.version = split.version;
    }
  });
}
