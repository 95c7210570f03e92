/**
 * Questions about paths that must not throw: is something there, is it a
 * directory, where does it really lead.
 * @module
 */
import { resolve } from "./path.ts";

/** Whether anything is at `path` itself (a dangling symbolic link counts). */
export function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Whether `path` leads to something (a symbolic link is followed). */
export function reachable(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Whether `path` leads to a directory. */
export function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** `path` with every symbolic link resolved; where that fails, `path` made absolute. */
export function realPathOr(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return resolve(path);
  }
}

/** Whether `path` lies inside the directory `dir` (or is it), symbolic links of both followed. */
export function isInside(path: string, dir: string): boolean {
  const top = realPathOr(dir);
  const real = realPathOr(path);
  return real === top || real.startsWith(top.endsWith("/") ? top : `${top}/`);
}

/** At most `max` bytes of the file at `path` from `offset` (fewer at its end). Throws when it cannot be read. */
export function readAt(path: string, offset: number, max: number): Uint8Array {
  using f = Deno.openSync(path, { read: true });
  if (offset) f.seekSync(offset, Deno.SeekMode.Start);
  const buf = new Uint8Array(max);
  let n = 0;
  while (n < max) {
    const got = f.readSync(buf.subarray(n));
    if (got === null) break;
    n += got;
  }
  return buf.subarray(0, n);
}
