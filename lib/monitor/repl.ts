/**
 * The plain monitor loop: command lines read from a pipe, a file, or a
 * terminal without line editing (`vmmon -n`), run one after the other.
 * @module
 */
import { QmpCommandError } from "../qmp/client.ts";
import type { Logger } from "../ui/log.ts";
import type { MonitorRunner } from "./hmp.ts";

/** The prompt QEMU's own monitor shows. */
export const PROMPT = "(qemu) ";

/** Where the loop writes. */
export interface ReplOutput {
  /** Command output (stdout). */
  out(text: string): void;
  /** What QEMU said about a command it refused (stderr). */
  err(text: string): void;
}

/** Options of {@linkcode runLines}. */
export interface RunLinesOptions {
  /** Printed before each line is read (a terminal in raw mode); none for pipes. */
  prompt?: string;
}

/**
 * Runs every command line of `lines` on the monitor, printing each output.
 * Blank lines and lines starting with `#` are skipped. Stops after `quit`
 * (QEMU is gone). A command QEMU refuses is reported on stderr and the loop
 * goes on; losing the monitor ends it with the runner's `VmError`.
 *
 * @returns the exit status: 0, or 1 when some command was refused.
 */
export async function runLines(
  runner: MonitorRunner,
  lines: AsyncIterable<string>,
  output: ReplOutput,
  log: Logger,
  opts: RunLinesOptions = {},
): Promise<number> {
  let refused = 0;
  if (opts.prompt) output.out(opts.prompt);
  for await (const raw of lines) {
    const line = raw.trim();
    if (line !== "" && !line.startsWith("#")) {
      try {
        const reply = await runner.run(line);
        if (reply.refused) {
          refused++;
          output.err(reply.output);
        } else output.out(reply.output);
        if (reply.ended) return refused ? 1 : 0;
      } catch (e) {
        if (!(e instanceof QmpCommandError)) throw e;
        log.error(`${line}: ${e.desc}`);
        refused++;
      }
    }
    if (opts.prompt) output.out(opts.prompt);
  }
  if (opts.prompt) output.out("\n");
  return refused ? 1 : 0;
}
