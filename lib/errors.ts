/**
 * The two ways a command fails, mapped to POSIX exit codes by `main.ts`, and
 * the one line a user sees for any error.
 * @module
 */

/** Wrong usage: nothing was done. Exit code 2. */
export class UsageError extends Error {
  /** Names the class in stack traces and `String(err)` (a subclass would say `Error`). */
  override name = "UsageError";
}

/** A failure after which everything half done was rolled back. Exit code 1. */
export class VmError extends Error {
  /** Names the class in stack traces and `String(err)` (a subclass would say `Error`). */
  override name = "VmError";
}

/** Exit code for an error. */
export function exitCodeOf(err: unknown): number {
  return err instanceof UsageError ? 2 : 1;
}

/**
 * Whether `err` is a refusal of the world outside the program (a file that
 * is not there or not a directory, a full disk, a closed socket, the
 * permission set):
 * something a user can cause, not a bug. `BadResource` (a handle used after
 * closing it) is left out: only a bug does that.
 */
export function isSystemError(err: unknown): boolean {
  if (!(err instanceof Error) || err instanceof Deno.errors.BadResource) {
    return false;
  }
  // Deno has no class for some of the system's refusals (a full disk, a
  // read-only file system, a quota): their message ends in "(os error N)".
  return Object.values(Deno.errors).some((kind) => err instanceof kind) || OS_ERROR.test(err.message);
}

const OS_ERROR = /\(os error \d+\)/;

/**
 * The one line to show for `err`. Deno's permission refusals ("Requires read
 * access to …, run again with the --allow-read flag": advice that is wrong
 * for vmtools, whose permissions are fixed) say what vmtools may not do;
 * Deno's file system errors put the path first; anything else gives the
 * first line of its message.
 */
export function describeError(err: unknown): string {
  const message = withoutDenoAdvice(err instanceof Error ? err.message : String(err));
  return systemMessage(message) ?? message.split("\n")[0];
}

/** `message` with every permission refusal of Deno in it said as what vmtools may not do. */
export function withoutDenoAdvice(message: string): string {
  return message
    .replace(
      /Requires (\w+) access(?: to "(.*?)")?, run again with the --allow-[\w-]+ flag\.?/gs,
      (whole, kind: string, target: string | undefined) => {
        const says = MAY_NOT[kind];
        if (!says) {
          return `vmtools may not do this: ${printable(whole.replace(/,? run again.*/s, ""))} (${OUTSIDE})`;
        }
        return `vmtools may not ${target === undefined ? says[1] : says[0](printable(target))} (${OUTSIDE})`;
      },
    )
    .replace(
      /Requires --allow-run permissions to spawn subprocess with (\S+) environment variable\.(?: Alternatively, spawn with the environment variable unset\.)?/g,
      (_, name: string) => `vmtools may not pass ${name} to a program it runs (${OUTSIDE})`,
    );
}

const OUTSIDE = "outside its permission set; see vmtools(7) SECURITY";

/** Per kind of Deno permission: what vmtools may not do to a target, and without one. */
const MAY_NOT: Record<string, [(target: string) => string, string]> = {
  read: [(t) => `read ${t}`, "read files"],
  write: [(t) => `write to ${t}`, "write files"],
  run: [(t) => `run ${t}`, "run programs or send signals without restriction"],
  net: [(t) => `use the network address ${t}`, "use the network without restriction"],
  env: [(t) => `read the environment variable ${t}`, "read the whole environment"],
  sys: [(t) => `query the system's ${t}`, "query system information"],
  ffi: [(t) => `load native code from ${t}`, "load native code"],
  import: [(t) => `import code from ${t}`, "import remote code"],
  // Deno asks for every permission at once for /proc, /dev and /sys files.
  all: [(t) => `access ${t}`, "do this"],
};

/** Deno's "REASON (os error N): OP 'PATH'" as "OP 'PATH': REASON", on one line. */
function systemMessage(message: string): string | undefined {
  const m = /^(.*?) \(os error \d+\): (\w+ .*)$/s.exec(message);
  return m ? `${printable(m[2])}: ${printable(m[1])}` : undefined;
}

/** `text` with control characters (a newline in a file name) escaped, so it stays one line. */
export function printable(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => {
    const named: Record<string, string> = { "\n": "\\n", "\t": "\\t", "\r": "\\r" };
    return named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}
