/**
 * Files that a vmtools command killed part-way leaves in a VM home: ISO
 * images of directories that QEMU never opened, and files written under a
 * temporary name (`NAME.tmp-PID`: settings, records, a cloud-init seed, a
 * UEFI variable store) that never reached their place. Remove them only
 * while holding the home's lock: then no command is writing any of them.
 * @module
 */
import { isTransientIso } from "../storage/iso.ts";

/** The name of a file written whole under a temporary name, then renamed into place. */
const PARTIAL = /\.tmp-\d+$/;

/** The left-over files directly in `dir` (not below it), sorted. */
export function leftovers(dir: string): string[] {
  const out: string[] = [];
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (e.isFile && (isTransientIso(e.name) || PARTIAL.test(e.name))) out.push(`${dir}/${e.name}`);
    }
  } catch { /* not there, or not readable: nothing of ours */ }
  return out.sort();
}
