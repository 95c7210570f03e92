/**
 * Reading the files that decide what vmtools runs (settings files, and the
 * checks shared with module files) without trusting them: a settings file
 * must be a regular file of at most 1 MiB that only its owner may change,
 * as ssh demands of its configuration. A FIFO would block the reader, a link
 * to `/dev/zero` would never end, and a file others may write lets them
 * choose what runs as its owner.
 * @module
 */
import { VmError } from "../errors.ts";

/** The largest settings file read, in bytes (1 MiB). */
export const MAX_SETTINGS_BYTES = 1024 * 1024;

/**
 * Refuses a file that group or others may write. `info` describes the file
 * itself, symbolic links followed (what `Deno.statSync` returns).
 */
export function refuseShared(path: string, info: Deno.FileInfo): void {
  if (info.mode !== null && (info.mode & 0o022) !== 0) {
    throw new VmError(
      `${path}: writable by group or others; run 'chmod go-w ${shellWord(path)}'`,
    );
  }
}

/**
 * Reads a settings file as text, or returns `undefined` when nothing is at
 * `path`. Throws a one-line {@linkcode VmError} naming the file when it is
 * not a regular file, is larger than {@linkcode MAX_SETTINGS_BYTES}, or is
 * writable by group or others. Never reads more than the cap plus one byte.
 */
export function readSettingsText(path: string): string | undefined {
  let info: Deno.FileInfo;
  try {
    // stat, not open: opening a FIFO blocks until someone writes to it.
    info = Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw cannotRead(path, e);
  }
  if (!info.isFile) throw new VmError(`${path}: not a regular file`);
  refuseShared(path, info);
  if (info.size > MAX_SETTINGS_BYTES) throw tooLarge(path, `${info.size} bytes`);
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path);
  } catch (e) {
    throw cannotRead(path, e);
  }
  try {
    // The file may have grown since the stat: read until the end or one
    // byte past the cap, whichever comes first.
    let buf = new Uint8Array(info.size + 1);
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        if (n > MAX_SETTINGS_BYTES) throw tooLarge(path, "still growing");
        const bigger = new Uint8Array(Math.min(2 * n + 4096, MAX_SETTINGS_BYTES + 1));
        bigger.set(buf);
        buf = bigger;
      }
      const got = file.readSync(buf.subarray(n));
      if (got === null) break;
      n += got;
    }
    return new TextDecoder().decode(buf.subarray(0, n));
  } catch (e) {
    if (e instanceof VmError) throw e;
    throw cannotRead(path, e);
  } finally {
    file.close();
  }
}

function tooLarge(path: string, size: string): VmError {
  return new VmError(`${path}: larger than 1 MiB (${size})`);
}

function cannotRead(path: string, e: unknown): VmError {
  return new VmError(`${path}: cannot read: ${(e as Error).message}`);
}

/** `path` as one shell word, for a command the user can paste. */
function shellWord(path: string): string {
  return /^[A-Za-z0-9_./:@%+,=-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`;
}
