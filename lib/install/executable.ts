/**
 * The executable the user ran, which `vmtools --install-links` links the
 * command names to. A compiled vmtools is the file Deno runs from
 * (`Deno.execPath()`: the kernel's path of the running file, links already
 * resolved). The launcher of scripts/install runs a copy of Deno, whose path
 * is no use to a link: the launcher passes its own `$0` as `VMTOOLS_ARGV0`,
 * which is the script as the shell found it, resolved here the same way.
 * @module
 */
import { VmError } from "../errors.ts";
import { basename, resolve } from "../path.ts";

/** What tells the running executable apart; the real process's by default. */
export interface Running {
  /** The file Deno runs from. */
  execPath: string;
  /** `VMTOOLS_ARGV0`, set by the launcher (absent for a compiled vmtools). */
  argv0?: string;
  /** The directory a relative `argv0` is taken from. */
  cwd: string;
}

/** The running process, as {@linkcode runningExecutable} looks at it. */
export function thisProcess(env: (name: string) => string | undefined, cwd: string): Running {
  return { execPath: Deno.execPath(), argv0: env("VMTOOLS_ARGV0"), cwd };
}

/**
 * The absolute path, links resolved, of the executable the user ran: the
 * compiled vmtools, or the launcher script. Under a plain `deno run` there
 * is none to link to: that is a {@linkcode VmError}.
 */
export function runningExecutable(r: Running): string {
  // The same test main.ts uses for the name it was run by.
  if (basename(r.execPath) !== "deno") return r.execPath;
  if (r.argv0?.includes("/")) {
    const path = Deno.realPathSync(resolve(r.argv0, r.cwd));
    if (!Deno.statSync(path).isFile) throw new VmError(`${path}: the launcher is not a file`);
    return path;
  }
  throw new VmError(
    "this vmtools runs under 'deno run', with no executable of its own to link to; " +
      "run --install-links from the compiled vmtools or the launcher scripts/install writes",
  );
}
