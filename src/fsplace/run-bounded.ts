import pMap from 'p-map';

/**
 * Runs `fn` over `items` with at most `limit` calls in flight (p-map). On the first failure no
 * new call starts; the ones in flight are awaited (so nothing still writes after we return) and
 * the first error is rethrown. (p-map's own stopOnError rejects at once, while calls still run.)
 */
export async function runBounded<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let failure: { error: unknown } | null = null;
  await pMap(
    items,
    async (item, index) => {
      if (failure !== null) return;
      try {
        await fn(item, index);
      } catch (error) {
        failure ??= { error };
      }
    },
    { concurrency: Math.max(1, limit) },
  );
  if (failure !== null) throw (failure as { error: unknown }).error;
}

/** Runs `fn` over every item, at most `limit` at once (p-map); returns the failures, each with its item. */
export async function runAllBounded<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<{ item: T; error: unknown }[]> {
  const failures: { item: T; error: unknown }[] = [];
  await pMap(
    items,
    async (item) => {
      try {
        await fn(item);
      } catch (error) {
        failures.push({ item, error });
      }
    },
    { concurrency: Math.max(1, limit) },
  );
  return failures;
}
