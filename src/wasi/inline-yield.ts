/**
 * Thrown, through the guest, when a host that may not block (an inline job on the API thread)
 * meets a call that would sleep: the run is abandoned and the caller runs it again where
 * blocking is fine. It has no `code`, so the syscall wrapper does not turn it into an errno.
 */
export class InlineYield extends Error {
  constructor(readonly call: string) {
    super(`${call} would block, which an inline run may not do`);
  }
}
