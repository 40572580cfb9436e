/**
 * The `warren` command from the same compiled tree as the test that spawns it
 * (bin/warren.js always loads dist/, which another build may own or may be stale).
 */
import { main } from '../../src/cli/main.js';

main(process.argv).catch((err: unknown) => {
  process.stderr.write(`warren: ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
