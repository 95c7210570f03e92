/**
 * The drive slots of a VM (`vm_storage_hddN_*`, `vm_storage_cdromN_*`) and
 * which of them are enabled.
 * @module
 */
import type { Settings } from "../settings/settings.ts";

/** The kinds of drive. */
export type DriveKind = "hdd" | "cdrom";

/** One enabled drive. */
export interface Drive {
  /** `hdd1`, `cdrom2`, … */
  name: string;
  /** Whether it is a hard disk or a CD-ROM drive. */
  kind: DriveKind;
  /** The slot number (1 or 2). */
  n: number;
  /** `vm_storage_NAME_backend` as set (may be empty for a CD-ROM). */
  backend: string;
  /**
   * The directory a relative backend is taken from: the home of the VM
   * whose settings file set it (a parent's, for a value a fork inherits),
   * else the VM's own home.
   */
  base: string;
}

/** The slot numbers each kind of drive has. */
export const SLOTS: readonly number[] = [1, 2];

/**
 * The enabled drives, disks first, each kind in slot order. `dir` is the
 * VM's home (or a bare boot's runtime directory).
 */
export function enabledDrives(
  settings: Settings,
  dir: string,
  kinds: readonly DriveKind[] = ["hdd", "cdrom"],
): Drive[] {
  const out: Drive[] = [];
  for (const kind of kinds) {
    for (const n of SLOTS) {
      const name = `${kind}${n}`;
      if (!settings.bool(`vm_storage_${name}_enable`)) continue;
      const setting = `vm_storage_${name}_backend`;
      out.push({ name, kind, n, backend: settings.get(setting), base: backendBase(settings, setting, dir) });
    }
  }
  return out;
}

/**
 * The directory relative paths in the value of `setting` are taken from:
 * the parent's home when a parent's settings file set it, else `dir`.
 */
export function backendBase(settings: Settings, setting: string, dir: string): string {
  const origin = settings.origin(setting);
  return origin?.layer === "parent" && origin.source ? origin.source : dir;
}
