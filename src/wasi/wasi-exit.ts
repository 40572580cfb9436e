/** Thrown by proc_exit to unwind the guest; WasiHost.start turns it into the exit code. */
export class WasiExit extends Error {
  readonly code: number;

  constructor(code: number) {
    super(`guest exited with code ${code}`);
    this.name = 'WasiExit';
    this.code = code;
  }
}
