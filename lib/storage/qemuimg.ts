/**
 * Creating and converting images with `qemu-img`, with progress on a terminal.
 * @module
 */
import { VmError } from "../errors.ts";
import { run, spawn } from "../spawn.ts";
import type { Logger } from "../ui/log.ts";

/** Creates a blank qcow2 image of `size` (e.g. `40G`). */
export async function createImage(
  path: string,
  size: string,
  log: Logger,
): Promise<void> {
  log.at(5, `qemu-img create -f qcow2 ${path} ${size}`);
  const r = await run("qemu-img", ["create", "-q", "-f", "qcow2", path, size]);
  if (r.code !== 0) {
    throw new VmError(`cannot create ${path}: ${lastLine(r.stderr)}`);
  }
}

/** Options of {@linkcode convertImage}. */
export interface ConvertOptions {
  /** Format of the source, when known. */
  from?: string;
  compress?: boolean;
}

/**
 * Converts an image to qcow2. Writes to a temporary name and renames at the
 * end, so an interrupted conversion leaves no half image behind.
 */
export async function convertImage(
  source: string,
  target: string,
  log: Logger,
  opts: ConvertOptions = {},
): Promise<void> {
  const tmp = `${target}.part-${Deno.pid}`;
  const progress = log.output.errIsTerminal && log.verbosity >= 2;
  const args = [
    "convert",
    ...(progress ? ["-p"] : []),
    ...(opts.from ? ["-f", opts.from] : []),
    "-O",
    "qcow2",
    ...(opts.compress ? ["-c"] : []),
    source,
    tmp,
  ];
  log.at(5, `qemu-img ${args.join(" ")}`);
  log.at(2, `converting ${source} to ${target}`);
  const child = spawn("qemu-img", args, {
    stdin: "null",
    stdout: progress ? "inherit" : "null",
    stderr: "piped",
  });
  const cleanup = () => {
    try {
      Deno.removeSync(tmp);
    } catch { /* not created yet */ }
  };
  const onSignal = () => {
    cleanup();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    const out = await child.output();
    if (out.code !== 0) {
      cleanup();
      throw new VmError(
        `cannot convert ${source}: ${lastLine(new TextDecoder().decode(out.stderr))}`,
      );
    }
    Deno.renameSync(tmp, target);
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
  }
}

function lastLine(text: string): string {
  return text.trim().split("\n").pop() || "qemu-img failed";
}
