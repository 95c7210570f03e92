/**
 * Creating and converting images with `qemu-img`, as steps of a change: an
 * existing file is never overwritten, a half-made image never stays, and a
 * conversion shows its progress on a terminal.
 * @module
 */
import type { Change } from "../change/change.ts";
import { VmError } from "../errors.ts";
import { basename } from "../path.ts";
import { followQemuImg, Progress } from "../ui/progress.ts";
import type { Logger } from "../ui/log.ts";

/** Creates a blank qcow2 image of `size` (e.g. `40G`) at `path`, which must not exist. */
export async function createImage(change: Change, path: string, size: string, log: Logger): Promise<void> {
  change.create(path);
  const { code, stderr } = await runQemuImg(change, ["create", "-q", "-f", "qcow2", path, size], log);
  if (code !== 0) throw new VmError(`cannot create ${path}: ${lastLine(stderr)}`);
}

/** Options of {@linkcode convertImage}. */
export interface ConvertOptions {
  /** Format of the source, when known. */
  from?: string;
  compress?: boolean;
}

/**
 * Converts an image to qcow2 at `target`, which must not exist. The image is
 * written under a temporary name and linked into place at the end, so that
 * a file appearing at `target` meanwhile is not overwritten either.
 */
export async function convertImage(
  change: Change,
  source: string,
  target: string,
  log: Logger,
  opts: ConvertOptions = {},
): Promise<void> {
  if (exists(target)) throw new VmError(`${target}: already exists; not overwriting it`);
  const tmp = `${target}.part-${Deno.pid}`;
  change.create(tmp);
  const args = [
    "convert",
    "-p",
    ...(opts.from ? ["-f", opts.from] : []),
    "-O",
    "qcow2",
    ...(opts.compress ? ["-c"] : []),
    source,
    tmp,
  ];
  log.at(2, `converting ${source} to ${target}`);
  const progress = new Progress(log, `converting ${basename(source)}`, sizeOf(source));
  const { code, stderr } = await runQemuImg(change, args, log, progress);
  progress.done(code === 0);
  if (code !== 0) throw new VmError(`cannot convert ${source}: ${lastLine(stderr)}`);
  change.create(target);
  try {
    Deno.linkSync(tmp, target);
  } catch (e) {
    throw new VmError(
      `${target}: ${
        e instanceof Deno.errors.AlreadyExists
          ? "appeared meanwhile; not overwriting it"
          : (e as Error).message
      }`,
    );
  }
  Deno.removeSync(tmp);
}

/** Runs qemu-img as a helper of `change`; its `-p` progress goes to `progress`. */
async function runQemuImg(
  change: Change,
  args: string[],
  log: Logger,
  progress?: Progress,
): Promise<{ code: number; stderr: string }> {
  log.at(5, `qemu-img ${args.join(" ")}`);
  const child = change.spawn("qemu-img", args, { stdin: "null", stdout: "piped", stderr: "piped" });
  const [status, , err] = await Promise.all([
    child.status,
    progress ? followQemuImg(child.stdout, progress) : child.stdout.cancel(),
    new Response(child.stderr).text(),
  ]);
  return { code: status.code, stderr: err };
}

function sizeOf(path: string): number | undefined {
  try {
    return Deno.statSync(path).size;
  } catch {
    return undefined;
  }
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function lastLine(text: string): string {
  return text.trim().split("\n").pop() || "qemu-img failed";
}
