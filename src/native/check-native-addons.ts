import type { Logger } from 'pino';
import { WarrenError } from '../errors.js';
import { deadlineStatus } from '../runtime/deadline.js';
import { nativeFsStatus } from './native-fs.js';

/**
 * Logs whether the two native addons are in use, and refuses to go on without them unless
 * WARREN_NO_NATIVE=1 asks for that: without the fs addon the WASI host and placement take
 * slower pure-JS paths, without the deadline addon jobs run one per thread and guest calls have
 * no in-thread deadline. A failed build used to switch those off without a word.
 */
export function checkNativeAddons(logger: Logger): void {
  const status = { nativeFs: nativeFsStatus.reason, deadline: deadlineStatus.reason };
  if (process.env.WARREN_NO_NATIVE === '1') {
    logger.warn(status, 'native addons off (WARREN_NO_NATIVE=1): pure-JS fs paths, one job per thread');
    return;
  }
  // The addons are built on Linux only (scripts/build-native.mjs); elsewhere the pure-JS paths are the only ones.
  const missing = process.platform !== 'linux' ? [] : [nativeFsStatus.loaded ? null : `warren_fs (${nativeFsStatus.reason})`, deadlineStatus.loaded ? null : `warren_deadline (${deadlineStatus.reason})`].filter((m) => m !== null);
  if (missing.length > 0) {
    throw new WarrenError('E_UNAVAILABLE', `native addon not loaded: ${missing.join('; ')}. Run \`npm run native\`, or set WARREN_NO_NATIVE=1 to run without the addons (slower)`, status);
  }
  logger.info(status, 'native addons');
}
