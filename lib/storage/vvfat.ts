/**
 * Whether a directory fits on the virtual FAT disk QEMU makes of it
 * (VVFAT): a FAT16 disk of 504 MiB with 8 KiB clusters, whose data area
 * holds 64 470 clusters (measured with QEMU 7.2: one file of 528 138 240
 * bytes fits, one cluster more does not). QEMU reads the whole tree when
 * it opens the disk, so walking it here first costs no more.
 * @module
 */
import { describeError, VmError } from "../errors.ts";

const CLUSTER = 8192;
/** What the data area of that disk holds. */
export const VVFAT_DATA_BYTES = 64_470 * CLUSTER;
/** Bytes a directory entry takes, and its long-name entries per 13 characters. */
const ENTRY = 32;

/**
 * The room `dir`'s tree takes on a FAT disk: each file rounded up to whole
 * clusters, each subdirectory's entries (short and long names) too.
 */
export function fatBytes(dir: string): number {
  try {
    return treeBytes(dir);
  } catch (e) {
    throw new VmError(`${dir}: cannot read the directory: ${describeError(e)}`);
  }
}

function treeBytes(dir: string): number {
  const seen = new Set<string>();
  const walk = (path: string, isRoot: boolean): number => {
    const info = Deno.statSync(path);
    const id = `${info.dev}:${info.ino}`;
    if (seen.has(id)) return 0; // a link back up the tree: QEMU would loop, count it once
    seen.add(id);
    let total = 0;
    let entries = 2; // `.` and `..`
    for (const e of Deno.readDirSync(path)) {
      entries += 1 + Math.ceil(e.name.length / 13);
      const child = `${path}/${e.name}`;
      let st: Deno.FileInfo;
      try {
        st = Deno.statSync(child);
      } catch {
        continue; // a dangling link: QEMU leaves it out too
      }
      if (st.isDirectory) total += walk(child, false);
      else if (st.isFile) total += roundUp(st.size);
    }
    // The root directory has a fixed area of its own outside the data clusters.
    return total + (isRoot ? 0 : roundUp(entries * ENTRY));
  };
  return walk(dir, true);
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function roundUp(bytes: number): number {
  return Math.ceil(bytes / CLUSTER) * CLUSTER;
}

/**
 * Throws a {@linkcode VmError} naming the size when `dir`, whose tree takes
 * `bytes` (from {@linkcode fatBytes}), does not fit on a virtual FAT disk.
 */
export function checkFitsVvfat(dir: string, what: string, bytes: number): void {
  if (bytes > VVFAT_DATA_BYTES) {
    // Just over the edge, MiB to one decimal would read "503.7 MiB, more than 503.7 MiB".
    const [size, room] = mib(bytes) === mib(VVFAT_DATA_BYTES)
      ? [`${bytes} bytes`, `${VVFAT_DATA_BYTES} bytes`]
      : [mib(bytes), mib(VVFAT_DATA_BYTES)];
    throw new VmError(
      `${what} (${dir}): its files take ${size}, more than the ${room} a virtual FAT ` +
        `disk (504 MiB) holds; use a disk image, or pass the directory as a CD-ROM (-d)`,
    );
  }
}
