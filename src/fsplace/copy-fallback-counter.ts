import { Counter, register, type Registry } from 'prom-client';

export const PLACEMENT_COPY_FALLBACKS_METRIC = 'warren_placement_copy_fallbacks_total';

/**
 * Read-only files copied instead of hardlinked, process-wide. Created without a registry so any
 * registry can expose it; registered on prom-client's default register when this module loads.
 */
export const placementCopyFallbacks: Counter<string> = new Counter({
  name: PLACEMENT_COPY_FALLBACKS_METRIC,
  help: 'Read-only files copied instead of hardlinked (store on another filesystem, link limit)',
  registers: [],
});

/** Registers the counter on `registry` unless a metric of that name is already there. */
export function registerPlacementMetrics(registry: Registry = register): void {
  if (registry.getSingleMetric(PLACEMENT_COPY_FALLBACKS_METRIC) === undefined) registry.registerMetric(placementCopyFallbacks);
}

registerPlacementMetrics();
