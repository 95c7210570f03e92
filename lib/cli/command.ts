/**
 * The shape every command file has (description, options and usage beside
 * `exec`), and running one: parse, `-h` (written from the declaration, only
 * then), and mapping errors to exit codes.
 * @module
 */
import {
  describeError,
  exitCodeOf,
  isSystemError,
  UsageError,
  VmError,
  withoutDenoAdvice,
} from "../errors.ts";
import type { BuiltinRegistry } from "../modules/loader.ts";
import { configRoots } from "../roots.ts";
import { resolveSettings } from "../settings/resolve.ts";
import type { Settings } from "../settings/settings.ts";
import type { Toolbox } from "../toolbox.ts";
import { Logger, type Output, processOutput } from "../ui/log.ts";
import { Prompter } from "../ui/prompt.ts";
import { getopt, type ParsedArgs } from "./getopt.ts";
import type { CommandSpec } from "./spec.ts";

/** A command: what `main.ts` loads by name, its declaration beside what it does. */
export interface Command extends CommandSpec {
  /** Runs the command; returns the exit status. */
  exec(args: ParsedArgs, io: CommandIO): Promise<number>;
}

/** What a command gets besides its arguments: its whole view of the process, so that it can run in a test. */
export interface CommandIO {
  /** Text written to stdout (data) and stderr (messages), and whether they are terminals. */
  output: Output;
  /** Program name for messages (`vmup`, …). */
  prog: string;
  /** The directory relative paths are taken from. */
  cwd: string;
  /** Reads an environment variable (`undefined` when unset). */
  env(name: string): string | undefined;
  /** Standard input (answers, monitor commands, console input). */
  stdin: StdinLike;
  /** Standard output as bytes (a guest's console output). */
  stdout: { write(p: Uint8Array): Promise<number> };
}

/** What commands read standard input through. */
export interface StdinLike {
  /** The input as a stream (vmmon pipes it to the monitor or the guest's console). */
  readonly readable: ReadableStream<Uint8Array>;
  /** Reads into `p`: the number of bytes read, or `null` at the end of input (piped answers to questions). */
  read(p: Uint8Array): Promise<number | null>;
  /** Whether the input is a terminal. */
  isTerminal(): boolean;
}

/** The real process: its stdin, stdout, stderr, environment and working directory. */
export function processIO(prog: string): CommandIO {
  return {
    output: processOutput,
    prog,
    cwd: Deno.cwd(),
    env: (name) => Deno.env.get(name),
    stdin: Deno.stdin,
    stdout: Deno.stdout,
  };
}

/**
 * Runs `cmd` on `argv`, printing errors as `prog: message`. Errors a user can
 * cause (ours, and the file system's or the permission set's refusals: a
 * path the user gave) are one line; only a bug prints "internal error" and
 * its stack, which `VMTOOLS_DEBUG` adds to the one line too.
 */
export async function runCommand(
  cmd: Command,
  argv: string[],
  io: CommandIO,
): Promise<number> {
  try {
    const args = getopt(argv, cmd.options);
    if (args.count.h) {
      const { formatHelp } = await import("./help.ts");
      io.output.out(formatHelp(cmd));
      return 0;
    }
    return await cmd.exec(args, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.output.err(`${io.prog}: ${e.message}\nTry '${io.prog} -h' for help.\n`);
      return exitCodeOf(e);
    }
    if (e instanceof VmError || isSystemError(e)) {
      // A VmError may quote a refusal of Deno's, with its advice.
      const message = e instanceof VmError ? withoutDenoAdvice(e.message) : describeError(e);
      io.output.err(`${io.prog}: ${message}\n`);
      if (debugging()) io.output.err(`${(e as Error).stack}\n`);
      return exitCodeOf(e);
    }
    io.output.err(
      `${io.prog}: internal error: ${e instanceof Error ? e.stack ?? e.message : e}\n`,
    );
    return 1;
  }
}

/** Whether `VMTOOLS_DEBUG` asks for the stack of every error. */
function debugging(): boolean {
  try {
    return Boolean(Deno.env.get("VMTOOLS_DEBUG"));
  } catch {
    return false; // a permission set without it
  }
}

/** Splits `-o name=value` arguments, refusing malformed ones. */
export function parseOverrides(
  values: readonly string[] = [],
): [string, string][] {
  return values.map((v) => {
    const m = /^((?:cfg|vm)_[A-Za-z0-9_]+)=(.*)$/s.exec(v);
    if (!m) {
      throw new UsageError(
        `-o '${v}': expected cfg_NAME=value or vm_NAME=value`,
      );
    }
    if (/[\n\r\0]/.test(m[2])) {
      throw new UsageError(
        `-o '${m[1]}': newline, carriage return and NUL are not allowed in values`,
      );
    }
    return [m[1], m[2]];
  });
}

/**
 * The verbosity of a run: `-q` means quiet — errors and essential results
 * only (level 0, whatever `cfg_ui_verbosity` says), `-qq` errors only —
 * and each `-v` raises the level by one from there.
 */
export function verbosityOf(configured: number, args: ParsedArgs): number {
  const quiet = args.count.q ?? 0;
  return (quiet ? 1 - quiet : configured) + (args.count.v ?? 0);
}

/** The tool settings, the verbosity and the shared toolbox for one run. */
export function session(
  args: ParsedArgs,
  io: CommandIO,
  builtins: BuiltinRegistry,
): { tool: Settings; tools: Toolbox; overrides: [string, string][] } {
  const overrides = parseOverrides(args.values.o);
  const roots = configRoots(io.env);
  const tool = resolveSettings({ roots, overrides }).settings;
  const verbosity = verbosityOf(tool.int("cfg_ui_verbosity"), args);
  const assumeYes = Boolean(args.count.y) || tool.bool("cfg_ui_assumeyes");
  const log = new Logger(io.prog, verbosity, io.output);
  return {
    tool,
    overrides,
    tools: {
      roots,
      log,
      prompter: new Prompter(io.output, assumeYes, io.stdin),
      builtins,
    },
  };
}
