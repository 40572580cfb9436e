import type { CopyFallbackEvent } from './place-blob-file.js';

/** The part of a pino logger placement uses. */
export interface PlacementLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
}

/** Collects copy fallbacks of one placement so the log gets one line, not one per file. */
export class CopyFallbackTally {
  count = 0;
  private readonly reasons = new Map<string, number>();

  constructor(private readonly onCopyFallback?: (event: CopyFallbackEvent) => void) {}

  readonly record = (event: CopyFallbackEvent): void => {
    this.count++;
    this.reasons.set(event.reason, (this.reasons.get(event.reason) ?? 0) + 1);
    this.onCopyFallback?.(event);
  };

  warn(logger: PlacementLogger | undefined, root: string): void {
    if (this.count === 0 || logger === undefined) return;
    logger.warn(
      { root, copyFallbacks: this.count, reasons: Object.fromEntries(this.reasons) },
      'read-only files were copied instead of hardlinked (is the blob store on another filesystem?)',
    );
  }
}
