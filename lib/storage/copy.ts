/**
 * Copying a file byte for byte (an overlay set aside by a safe merge, the
 * files of a VM moved to another file system), with progress: in large
 * chunks, blocks of zeros left as holes, so that a sparse image stays
 * sparse.
 * @module
 */
import { basename } from "../path.ts";
import type { Logger } from "../ui/log.ts";
import { Progress } from "../ui/progress.ts";

/** Big enough for the disk's speed, small enough for a smooth progress line. */
const CHUNK = 8 * 2 ** 20;
/** The unit of holes: a block of this many zero bytes is not written. */
const BLOCK = 64 * 2 ** 10;

/**
 * Copies the file `from` to `to`, which must not exist, with `from`'s
 * permission bits; `progress` advances by the bytes copied (the caller
 * ends its line).
 */
export async function copyFile(from: string, to: string, progress?: Progress): Promise<void> {
  const info = await Deno.stat(from);
  using source = await Deno.open(from, { read: true });
  using target = await Deno.open(to, { write: true, createNew: true, mode: 0o600 });
  const buf = new Uint8Array(CHUNK);
  let offset = 0;
  for (;;) {
    const n = await readFull(source, buf);
    if (n === 0) break;
    await writeSparse(target, buf.subarray(0, n));
    offset += n;
    progress?.advance(n);
  }
  // A hole at the end needs the length set: seeking alone does not grow a file.
  await target.truncate(offset);
  await Deno.chmod(to, (info.mode ?? 0o644) & 0o7777);
}

/** Copies one file as {@linkcode copyFile} does, with a progress line of its own (`copying NAME`). */
export async function copyWithProgress(from: string, to: string, log: Logger): Promise<void> {
  const progress = new Progress(log, `copying ${basename(from)}`, (await Deno.stat(from)).size);
  let ok = false;
  try {
    await copyFile(from, to, progress);
    ok = true;
  } finally {
    progress.done(ok);
  }
}

/** Reads until `buf` is full or the file ends; returns the bytes read. */
async function readFull(file: Deno.FsFile, buf: Uint8Array): Promise<number> {
  let total = 0;
  while (total < buf.length) {
    const n = await file.read(buf.subarray(total));
    if (n === null) break;
    total += n;
  }
  return total;
}

/** Writes `data` at the file's position, skipping blocks of zeros (they stay holes). */
async function writeSparse(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  const zero: boolean[] = [];
  for (let at = 0; at < data.length; at += BLOCK) zero.push(isZero(data.subarray(at, at + BLOCK)));
  for (let b = 0; b < zero.length;) {
    const first = b;
    while (b < zero.length && zero[b] === zero[first]) b++;
    const run = data.subarray(first * BLOCK, b * BLOCK);
    if (zero[first]) await file.seek(run.length, Deno.SeekMode.Current);
    else await writeAll(file, run);
  }
}

async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  let done = 0;
  while (done < data.length) done += await file.write(data.subarray(done));
}

/** Whether every byte is zero (compared four at a time). */
export function isZero(data: Uint8Array): boolean {
  const words = data.byteOffset % 4 === 0 ? data.length >> 2 : 0;
  if (words) {
    const view = new Uint32Array(data.buffer, data.byteOffset, words);
    for (let i = 0; i < view.length; i++) if (view[i] !== 0) return false;
  }
  for (let i = words << 2; i < data.length; i++) if (data[i] !== 0) return false;
  return true;
}
