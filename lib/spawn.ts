/**
 * Running the few external programs vmtools may run (QEMU, qemu-img,
 * genisoimage, kill, ps, lsblk and test for block devices, and virsh for
 * libvirt). Deno refuses to spawn under a scoped `--allow-run` while a
 * non-empty `LD_*` variable would reach the child; the refusal names them,
 * and the spawn is retried with exactly those blanked.
 * @module
 */
import { describeError, VmError } from "./errors.ts";
import { after } from "./timer.ts";

/** Options for {@linkcode command}. */
export interface SpawnOptions {
  /** The child's stdin; `inherit` when absent, as `Deno.Command` does. */
  stdin?: "piped" | "inherit" | "null";
  /** The child's stdout, likewise (`inherit` when spawned, `piped` for `output()`). */
  stdout?: "piped" | "inherit" | "null";
  /** The child's stderr, likewise. */
  stderr?: "piped" | "inherit" | "null";
  /** Variables set for the child over this process's environment (`LC_ALL=C` to read its messages). */
  env?: Record<string, string>;
  /** The child's working directory; this process's when absent. */
  cwd?: string;
  /** Start it in a session (and process group) of its own: no terminal signal reaches it. */
  detached?: boolean;
}

/**
 * Makes a `Deno.Command`, blanking the `LD_*` variables named in `blank`.
 * Only variables that are really set get blanked: some (LD_SHOW_AUXV) act
 * on mere presence, even empty.
 */
export function command(
  program: string,
  args: string[],
  opts: SpawnOptions = {},
  blank: string[] = [],
): Deno.Command {
  const env: Record<string, string> = { ...opts.env };
  for (const v of blank) env[v] ??= "";
  return new Deno.Command(program, { ...opts, args, env });
}

/** The `LD_*` variables Deno names when it refuses a spawn because of them. */
function ldVariablesIn(e: unknown): string[] | undefined {
  if (!(e instanceof Deno.errors.NotCapable)) return undefined;
  const names = e.message.match(/\bLD_[A-Z0-9_]+/g);
  return names ?? undefined;
}

/** Starts a program; a missing program or refused spawn becomes a clear {@linkcode VmError}. */
export function spawn(
  program: string,
  args: string[],
  opts: SpawnOptions = {},
): Deno.ChildProcess {
  return withLdRetry(program, (blank) => command(program, args, opts, blank).spawn());
}

/**
 * Runs a program to completion synchronously (for undoing a step inside a
 * signal handler, where nothing may be awaited); returns its exit code.
 */
export function runSync(program: string, args: string[]): number {
  const opts: SpawnOptions = { stdin: "null", stdout: "null", stderr: "null" };
  return withLdRetry(program, (blank) => command(program, args, opts, blank).outputSync()).code;
}

/** Calls `start`, again with the `LD_*` variables Deno names blanked when it refuses them. */
function withLdRetry<T>(program: string, start: (blank: string[]) => T): T {
  try {
    return start([]);
  } catch (e) {
    const blank = ldVariablesIn(e);
    if (!blank) throw spawnError(program, e);
    try {
      return start(blank);
    } catch (e2) {
      throw spawnError(program, e2);
    }
  }
}

/** Runs a program to completion, collecting its output. */
export async function run(
  program: string,
  args: string[],
  opts: SpawnOptions = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(program, args, {
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...opts,
  });
  const out = await child.output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

/**
 * Like {@linkcode run}, but a program still running after `timeoutMs` is
 * killed (SIGKILL) and `timedOut` is set: for programs that wait on the
 * network.
 */
export async function runFor(
  program: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number; stdout: string; stderr: string; timedOut: boolean }> {
  const child = spawn(program, args, { stdin: "null", stdout: "piped", stderr: "piped" });
  let timedOut = false;
  const cancel = after(timeoutMs, () => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* it just exited */ }
  });
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr), timedOut };
  } finally {
    cancel();
  }
}

/** The Debian package of each program vmtools runs, for the message when one is missing. */
const DEBIAN_PACKAGE: Record<string, string> = {
  "qemu-system-x86_64": "qemu-system-x86",
  "qemu-system-i386": "qemu-system-x86",
  "qemu-system-aarch64": "qemu-system-arm",
  "qemu-img": "qemu-utils",
  genisoimage: "genisoimage",
  kill: "procps",
  ps: "procps",
  lsblk: "util-linux",
  test: "coreutils",
  virsh: "libvirt-clients",
};

/** Turns a spawn failure into a message naming the program. */
export function spawnError(program: string, e: unknown): VmError {
  if (e instanceof Deno.errors.NotFound) {
    const pkg = DEBIAN_PACKAGE[program];
    return new VmError(
      `${program}: not found in PATH (install it${pkg ? `: Debian package ${pkg}` : ""})`,
    );
  }
  const said = describeError(e);
  // Deno's refusal to run it names the program already.
  return new VmError(said.startsWith(`vmtools may not run ${program} `) ? said : `${program}: ${said}`);
}
