/**
 * Every `qemu-img` operation vmtools performs: reading an image and its
 * backing chain, and — as steps of a change — creating blank images and
 * overlays, converting and copying, and re-pointing backing files. An
 * existing file is never overwritten, a half-made image never stays, and
 * slow work shows its progress on a terminal.
 * @module
 */
import type { Change } from "../change/change.ts";
import { VmError } from "../errors.ts";
import { basename, normalize } from "../path.ts";
import { run, runFor } from "../spawn.ts";
import { type Qcow2Backing, readQcow2Backing } from "./qcow2.ts";
import { Progress, withProgress } from "../ui/progress.ts";
import type { Logger } from "../ui/log.ts";
import { exists } from "../fs.ts";

/** One image of a backing chain, as `qemu-img info` describes it. */
export interface ImageInfo {
  /** The image's name as QEMU opened it (a backing file's path normalized); `?` when not told. */
  filename: string;
  /** QEMU's name of its format (`qcow2`, `raw`, …); `?` when not told. */
  format: string;
  /** The disk size the guest sees, in bytes; 0 when not told. */
  virtualSize: number;
  /** Space taken on the host, in bytes. */
  actualSize: number | null;
  /** The backing file as stored in the image (maybe relative). */
  backingFilename: string | null;
  /** The backing file's format as stored in the image; null when it names none. */
  backingFormat: string | null;
}

/** Runs `qemu-img info` on `path` and its backing files (sharing locks with a running QEMU). */
export async function imageChain(path: string): Promise<ImageInfo[]> {
  return parseImageChain(await info(path, ["--backing-chain"]));
}

/** The image `path` alone (its backing file as stored, whether or not it exists). */
export async function imageInfo(path: string): Promise<ImageInfo> {
  return parseImageChain(await info(path, []))[0];
}

async function info(path: string, extra: string[]): Promise<string> {
  const r = await run("qemu-img", ["info", "-U", "--output=json", ...extra, path]);
  if (r.code !== 0) throw new Error(lastLine(r.stderr).replace(/^qemu-img: /, "") || "qemu-img info failed");
  return r.stdout;
}

/** Reads `qemu-img info --output=json --backing-chain` output. */
export function parseImageChain(json: string): ImageInfo[] {
  const data = JSON.parse(json);
  const list: Record<string, unknown>[] = Array.isArray(data) ? data : [data];
  const str = (v: unknown) => typeof v === "string" ? v : null;
  const num = (v: unknown) => typeof v === "number" ? v : null;
  return list.map((img) => ({
    filename: tidy(str(img["filename"]) ?? "?"),
    format: str(img["format"]) ?? "?",
    virtualSize: num(img["virtual-size"]) ?? 0,
    actualSize: num(img["actual-size"]),
    backingFilename: str(img["backing-filename"]),
    backingFormat: str(img["backing-filename-format"]),
  }));
}

/** `/a/child/../base/x` → `/a/base/x` (QEMU joins backing paths as stored); other names stay. */
function tidy(name: string): string {
  return name.startsWith("/") ? normalize(name) : name;
}

/** Creates a blank qcow2 image of `size` (e.g. `40G`) at `path`, which must not exist. */
export async function createImage(change: Change, path: string, size: string, log: Logger): Promise<void> {
  change.create(path);
  const { code, stderr } = await runQemuImg(change, ["create", "-q", "-f", "qcow2", path, size], log);
  if (code !== 0) throw new VmError(`cannot create ${path}: ${lastLine(stderr)}`);
}

/**
 * Creates a qcow2 overlay at `path` on `backing` (as it is to be stored:
 * relative to `path`'s directory, or absolute), always naming the backing
 * format. Costs the same whatever the size of the backing image.
 */
export async function createOverlay(
  change: Change,
  path: string,
  backing: string,
  backingFormat: string,
  log: Logger,
): Promise<void> {
  change.create(path);
  const args = ["create", "-q", "-f", "qcow2", "-b", backing, "-F", backingFormat, path];
  const { code, stderr } = await runQemuImg(change, args, log);
  if (code !== 0) throw new VmError(`cannot create an overlay ${path} on ${backing}: ${lastLine(stderr)}`);
}

/** Options of {@linkcode convertImage}. */
export interface ConvertOptions {
  /** Format of the source, when known. */
  from?: string;
  /** Target format (default qcow2). */
  to?: string;
  /** Compress the target's data (`qemu-img convert -c`; `vm_qemu_compress`, vmcp `-z`): smaller, slower. */
  compress?: boolean;
  /**
   * Make the target an overlay on this image (as it is to be stored) holding
   * only what the source adds to it: a copy of an overlay that stays one.
   */
  backing?: { file: string; format: string };
  /** What the progress line says (default: `converting NAME`). */
  label?: string;
  /** What messages call the source (default: its path): for a `json:` source, say. */
  name?: string;
  /** How many bytes the source holds, for the progress line's rate (default: the size of its file). */
  bytes?: number;
}

/**
 * Converts (or copies) an image to `target`, which must not exist. The image
 * is written under a temporary name and linked into place at the end, so
 * that a file appearing at `target` meanwhile is not overwritten either.
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
    opts.to ?? "qcow2",
    ...(opts.compress ? ["-c"] : []),
    ...(opts.backing ? ["-B", opts.backing.file, "-F", opts.backing.format] : []),
    source,
    tmp,
  ];
  const label = opts.label ?? `converting ${basename(source)}`;
  log.at(2, `${label} to ${target}`);
  const progress = new Progress(log, label, opts.bytes ?? sizeOf(source));
  const { code, stderr } = await runQemuImg(change, args, log, progress);
  if (code !== 0) throw new VmError(`cannot convert ${opts.name ?? source}: ${lastLine(stderr)}`);
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

/**
 * Re-points the backing file stored in the qcow2 image `path` (its data is
 * untouched: the new backing must hold what the old one did). Undoing the
 * change stores the old backing file again.
 */
export async function setBacking(
  change: Change,
  path: string,
  backing: string,
  backingFormat: string,
  log: Logger,
): Promise<void> {
  const top = await backingOf(path).catch((e) => {
    throw new VmError(`${path}: ${(e as Error).message}`);
  });
  change.backing(path, top.backingFilename ?? "", top.backingFormat ?? "");
  const { code, stderr } = await runQemuImg(change, [
    "rebase",
    "-u",
    "-b",
    backing,
    "-F",
    backingFormat,
    path,
  ], log);
  if (code !== 0) throw new VmError(`cannot re-point ${path} to ${backing}: ${lastLine(stderr)}`);
}

/** Runs qemu-img as a helper of `change`; its `-p` progress goes to `progress`, whose line it ends. */
async function runQemuImg(
  change: Change,
  args: string[],
  log: Logger,
  progress?: Progress,
): Promise<{ code: number; stderr: string }> {
  log.at(5, `qemu-img ${args.join(" ")}`);
  const child = change.spawn("qemu-img", args, { stdin: "null", stdout: "piped", stderr: "piped" });
  if (progress) return await withProgress(child, progress);
  const [status, , err] = await Promise.all([
    child.status,
    child.stdout.cancel(),
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

function lastLine(text: string): string {
  return text.trim().split("\n").pop() || "qemu-img failed";
}

/**
 * The backing file stored in the image `path`: read from the header of a
 * qcow2 image, asked of `qemu-img info` for any other format.
 */
export async function backingOf(path: string): Promise<Qcow2Backing> {
  const fromHeader = readQcow2Backing(path);
  if (fromHeader) return fromHeader;
  const { backingFilename, backingFormat } = await imageInfo(path);
  return { backingFilename, backingFormat };
}

/** What `qemu-img info` tells of an image behind a URL and its backing chain. */
export interface RemoteImage {
  /** QEMU's name of its format (`raw`, `qcow2`, `vpc`, …). */
  format: string;
  /** The disk size the guest sees, in bytes. */
  virtualSize: number;
  /** The backing file of each image of the chain that has one, as QEMU opens it (a URL, or a path on this host). */
  backings: string[];
  /** The external data files qcow2 images of the chain name (where QEMU reads their data). */
  dataFiles: string[];
  /** The files vmdk descriptors of the chain name as their extents, as QEMU opened them. */
  extents: string[];
}

/** The part of `qemu-img info --output=json` that {@linkcode remoteImage} reads, for each image. */
interface InfoJson {
  format?: unknown;
  "virtual-size"?: unknown;
  "full-backing-filename"?: unknown;
  "backing-filename"?: unknown;
  "format-specific"?: { data?: { "data-file"?: unknown; extents?: { filename?: unknown }[] } };
}

/**
 * Opens the image at `url` and its backing files with `qemu-img info`,
 * giving up after `timeoutMs`. Throws an Error whose message is why it
 * cannot be opened, on one line, without qemu-img's "Could not open
 * 'URL':" preamble.
 */
export async function remoteImage(url: string, timeoutMs: number, log: Logger): Promise<RemoteImage> {
  const args = ["info", "-U", "--output=json", "--backing-chain", url];
  log.at(5, `qemu-img ${args.join(" ")}`);
  const r = await runFor("qemu-img", args, timeoutMs);
  if (r.timedOut) throw new Error(`no answer within ${timeoutMs / 1000} s`);
  if (r.code !== 0) throw new Error(openFailure(r.stderr, url));
  const chain: InfoJson[] = [JSON.parse(r.stdout)].flat();
  const strings = (values: unknown[]) => values.filter((v): v is string => typeof v === "string");
  const top = chain[0] ?? {};
  return {
    format: String(top.format ?? "raw"),
    virtualSize: typeof top["virtual-size"] === "number" ? top["virtual-size"] : 0,
    backings: strings(chain.map((img) => img["full-backing-filename"] ?? img["backing-filename"])),
    dataFiles: strings(chain.map((img) => img["format-specific"]?.data?.["data-file"])),
    extents: strings(
      chain.flatMap((img) => (img["format-specific"]?.data?.extents ?? []).map((e) => e?.filename)),
    ),
  };
}

/**
 * Reads the first `length` bytes (a multiple of 2048) of the image at
 * `url` as raw bytes: `qemu-img dd` copies them into `scratch` (a file
 * vmtools may write, removed afterwards), where they are read back. Over
 * HTTP that is a ranged GET, as QEMU's curl driver makes them.
 */
export async function readRemoteHead(
  url: string,
  length: number,
  scratch: string,
  timeoutMs: number,
  log: Logger,
): Promise<Uint8Array> {
  // `skip=` is broken in qemu-img 7.2 ("cannot skip to specified offset"): read from the start.
  const args = ["dd", "-U", "-f", "raw", "-O", "raw", "bs=2048", `count=${Math.ceil(length / 2048)}`];
  args.push(`if=${url}`, `of=${scratch}`);
  log.at(5, `qemu-img ${args.join(" ")}`);
  try {
    const r = await runFor("qemu-img", args, timeoutMs);
    if (r.timedOut) throw new Error(`no answer within ${timeoutMs / 1000} s`);
    if (r.code !== 0) throw new Error(openFailure(r.stderr, url));
    return Deno.readFileSync(scratch);
  } finally {
    try {
      Deno.removeSync(scratch);
    } catch { /* never made */ }
  }
}

/** qemu-img's last error line about `url`, without what the caller says anyway. */
function openFailure(stderr: string, url: string): string {
  return lastLine(stderr)
    .replace(/^qemu-img: /, "")
    .replace(`Could not open '${url}': `, "")
    .replace(`${url}: `, "")
    .replace(/^CURL: Error opening file: /, "");
}
