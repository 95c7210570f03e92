/**
 * The two ways a command fails, mapped to POSIX exit codes by `main.ts`.
 * @module
 */

/** Wrong usage: nothing was done. Exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A failure after which everything half done was rolled back. Exit code 1. */
export class VmError extends Error {
  override name = "VmError";
}

/** Exit code for an error. */
export function exitCodeOf(err: unknown): number {
  return err instanceof UsageError ? 2 : 1;
}
