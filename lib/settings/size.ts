/**
 * Size settings (`vm_ram_size`, `vm_storage_hddN_createsize`): one reading
 * and one check, wherever the value comes from (a question, `-o`, a
 * settings file). A plain number is MiB, as QEMU reads `-m`; a number with
 * `K`, `M`, `G` or `T` (any case, optionally followed by `iB` or `B`) is
 * that many KiB, MiB, GiB or TiB, and may have a fraction (`1.5G`).
 * @module
 */

/** Bytes in a MiB. */
export const MIB = 2 ** 20;

/** The least guest memory accepted, in MiB: less boots nothing. */
export const MIN_RAM_MIB = 16;

const UNITS: Record<string, number> = {
  "": MIB,
  K: 2 ** 10,
  M: MIB,
  G: 2 ** 30,
  T: 2 ** 40,
};

/** Reads a size into bytes (rounded to a whole byte); `undefined` if malformed. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(?:([KMGT])(?:i?B)?)?$/i.exec(text.trim());
  if (!m) return undefined;
  const bytes = Math.round(Number(m[1]) * UNITS[(m[2] ?? "").toUpperCase()]);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** A size read and checked, or why it is no good (two phrasings). */
export type SizeReading =
  | { bytes: number }
  | {
    /** Follows `setting NAME='VALUE' (from ORIGIN): `. */
    reason: string;
    /** Follows `expected ` (as a question's check puts it). */
    expected: string;
  };

const FORM = "a size such as 512M or 2G (a plain number is MiB)";

/** Reads `text` as a value of size setting `name` and checks it. */
export function readSize(name: string, text: string): SizeReading {
  const bytes = parseSize(text);
  if (bytes === undefined) return { reason: `expected ${FORM}`, expected: FORM };
  if (name === "vm_ram_size" && bytes < MIN_RAM_MIB * MIB) {
    return {
      reason: `too small to boot anything (at least ${MIN_RAM_MIB}M)`,
      expected: `at least ${MIN_RAM_MIB}M (less is too small to boot anything)`,
    };
  }
  return { bytes };
}

/** A size in whole MiB, rounded up (what QEMU and qemu-img are given). */
export function toMiB(bytes: number): number {
  return Math.ceil(bytes / MIB);
}
