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
  kind: DriveKind;
  /** The slot number (1 or 2). */
  n: number;
  /** `vm_storage_NAME_backend` as set (may be empty for a CD-ROM). */
  backend: string;
}

/** The slot numbers each kind of drive has. */
export const SLOTS: readonly number[] = [1, 2];

/** The enabled drives, disks first, each kind in slot order. */
export function enabledDrives(settings: Settings, kinds: readonly DriveKind[] = ["hdd", "cdrom"]): Drive[] {
  const out: Drive[] = [];
  for (const kind of kinds) {
    for (const n of SLOTS) {
      const name = `${kind}${n}`;
      if (!settings.bool(`vm_storage_${name}_enable`)) continue;
      out.push({ name, kind, n, backend: settings.get(`vm_storage_${name}_backend`) });
    }
  }
  return out;
}
