/**
 * Running the few external programs vmtools may run (QEMU, qemu-img, an ISO
 * builder, kill). Deno refuses to spawn under a scoped `--allow-run` while
 * any `LD_*` variable reaches the child, so those are blanked.
 * @module
 */
import { VmError } from "./errors.ts";

const LD_VARS = [
  "LD_PRELOAD",
  "LD_LIBRARY_PATH",
  "LD_AUDIT",
  "LD_BIND_NOW",
  "LD_BIND_NOT",
  "LD_DEBUG",
  "LD_DEBUG_OUTPUT",
  "LD_PROFILE",
  "LD_ORIGIN_PATH",
  "LD_DYNAMIC_WEAK",
  "LD_SHOW_AUXV",
  "LD_USE_LOAD_BIAS",
  "LD_ASSUME_KERNEL",
];

/** Options for {@linkcode command}. */
export interface SpawnOptions {
  stdin?: "piped" | "inherit" | "null";
  stdout?: "piped" | "inherit" | "null";
  stderr?: "piped" | "inherit" | "null";
  env?: Record<string, string>;
  cwd?: string;
}

/** Makes a `Deno.Command` whose environment carries no `LD_*` variable. */
export function command(
  program: string,
  args: string[],
  opts: SpawnOptions = {},
): Deno.Command {
  const env: Record<string, string> = { ...opts.env };
  for (const v of LD_VARS) env[v] ??= "";
  return new Deno.Command(program, { ...opts, args, env });
}

/** Starts a program; a missing program or refused spawn becomes a clear {@linkcode VmError}. */
export function spawn(
  program: string,
  args: string[],
  opts: SpawnOptions = {},
): Deno.ChildProcess {
  try {
    return command(program, args, opts).spawn();
  } catch (e) {
    throw spawnError(program, e);
  }
}

/** Runs a program to completion, collecting its output. */
export async function run(
  program: string,
  args: string[],
  opts: SpawnOptions = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let out: Deno.CommandOutput;
  try {
    out = await command(program, args, {
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      ...opts,
    }).output();
  } catch (e) {
    throw spawnError(program, e);
  }
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

/** Turns a spawn failure into a message naming the program. */
export function spawnError(program: string, e: unknown): VmError {
  if (e instanceof Deno.errors.NotFound) {
    return new VmError(
      `${program}: not found in PATH (install it, e.g. Debian's qemu-system-x86 / qemu-utils)`,
    );
  }
  if (e instanceof Deno.errors.NotCapable) {
    return new VmError(
      `${program}: not among the programs vmtools is allowed to run (${
        (e as Error).message
      })`,
    );
  }
  return new VmError(`${program}: ${(e as Error).message}`);
}
