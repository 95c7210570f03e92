/**
 * The storage part of `vminfo` (`-b`): each enabled hard disk and CD-ROM
 * drive, its backend, what kind of storage that is and the access the VM
 * gets; in long form the image details from `qemu-img info`, down the whole
 * chain of backing files. Then each shared folder: its directory, access,
 * mount tag, security model and how a Linux guest mounts it.
 * @module
 */
import { VmError } from "../errors.ts";
import type { Settings } from "../settings/settings.ts";
import {
  type Access,
  effectiveAccess,
  inspectStorage,
  parseAccess,
  type StorageRef,
} from "../storage/inspect.ts";
import { backendBase, SLOTS } from "../storage/drives.ts";
import { imageChain, type ImageInfo } from "../storage/qemuimg.ts";
import { listShares, type Share } from "../storage/shares.ts";
import { formatSection, humanSize, type Row } from "./format.ts";

export type { ImageInfo };

/** One enabled drive, or a shared folder. */
export interface StorageDevice {
  /** `hdd1`, `cdrom2`, `share1`, … */
  device: string;
  /** The `vm_storage_*_backend` (or `vm_shareN_path`) value as set. */
  backend: string;
  /**
   * What the backend is: an image `file`, a block `device`, a `dir` (a
   * virtual FAT disk, or an ISO for a CD-ROM), a `url`; an `empty` CD-ROM
   * drive, a `missing` backend (unset or unusable: see `error`), or a
   * `share`d folder.
   */
  kind: "file" | "device" | "dir" | "url" | "empty" | "missing" | "share";
  /** A description such as `qcow2 image` or `block device`. */
  type: string;
  /** Image format for files, else `null`. */
  format: string | null;
  /** The absolute path or URL QEMU is given. */
  location: string | null;
  /** The access the VM gets (`rw`, `snap`, `ro`). */
  access: Access | null;
  /** Why the backend cannot be used. */
  error?: string;
  /** With `-l`: the image and its backing files, top first. */
  chain?: ImageInfo[];
  /** With `-l`: why `qemu-img info` failed. */
  chainError?: string;
  /** A share's 9p mount tag. */
  tag?: string;
  /** A share's security model. */
  security?: string;
  /** How a Linux guest mounts a share. */
  mount?: string;
}

/** The enabled drives of a VM; relative backends are taken from the home of the VM that set them. */
export async function gatherStorage(
  home: string,
  settings: Settings,
  long: boolean,
): Promise<StorageDevice[]> {
  let cap: Access | undefined;
  try {
    cap = parseAccess(
      settings.get("vm_storage_rwmode") || "rw",
      "vm_storage_rwmode",
    );
  } catch { /* shown as unknown access */ }
  const out: StorageDevice[] = [];
  for (const kind of ["hdd", "cdrom"] as const) {
    for (const n of SLOTS) {
      const device = `${kind}${n}`;
      let enabled: boolean;
      try {
        enabled = settings.bool(`vm_storage_${device}_enable`);
      } catch {
        enabled = true; // a malformed flag is worth showing
      }
      if (!enabled) continue;
      const setting = `vm_storage_${device}_backend`;
      const backend = settings.get(setting);
      const dev = describe(device, kind === "cdrom", backend, backendBase(settings, setting, home), cap);
      if (long && (dev.kind === "file" || dev.kind === "device")) {
        try {
          dev.chain = await imageChain(dev.location!);
        } catch (e) {
          dev.chainError = (e as Error).message;
        }
      }
      out.push(dev);
    }
  }
  for (const share of listShares(settings, home)) out.push(describeShare(share));
  return out;
}

function describeShare(s: Share): StorageDevice {
  return {
    device: s.name,
    backend: s.value,
    kind: "share",
    type: "shared folder (9p)",
    format: null,
    location: s.path,
    access: s.access,
    tag: s.tag,
    security: s.security,
    mount: s.mount,
    ...(s.error ? { error: s.error } : {}),
  };
}

function describe(
  device: string,
  cdrom: boolean,
  backend: string,
  home: string,
  cap: Access | undefined,
): StorageDevice {
  const make = (
    kind: StorageDevice["kind"],
    type: string,
    more: Partial<StorageDevice> = {},
  ): StorageDevice => ({
    device,
    backend,
    kind,
    type,
    format: null,
    location: null,
    access: null,
    ...more,
  });
  if (backend === "") {
    return cdrom ? make("empty", "empty drive") : make("missing", "missing", {
      error: `vm_storage_${device}_backend is empty`,
    });
  }
  let ref: StorageRef;
  try {
    ref = inspectStorage(backend, home);
  } catch (e) {
    if (!(e instanceof VmError)) throw e;
    return make("missing", "missing", { error: e.message });
  }
  const access = cdrom ? "ro" : cap ? effectiveAccess(ref, cap) : null;
  const loc = ref.location;
  switch (loc.kind) {
    case "file":
      return make(
        "file",
        `${loc.format === "iso" ? "ISO" : loc.format} image`,
        { format: loc.format, location: loc.path, access },
      );
    case "device":
      return make("device", "block device", { location: loc.path, access });
    case "dir":
      return make(
        "dir",
        cdrom ? "directory (made into an ISO image at start)" : "directory (virtual FAT disk)",
        { location: loc.path, access },
      );
    case "url":
      return make("url", `${loc.scheme} URL`, { location: loc.url, access });
  }
}

/** The rows of one drive in the text form. */
export function storageRows(dev: StorageDevice): Row[] {
  const d = dev.device;
  const rows: Row[] = [
    { key: d, value: dev.backend, comment: dev.type },
  ];
  if (dev.location !== null && dev.location !== dev.backend) {
    rows.push({ key: `${d}_location`, value: dev.location });
  }
  if (dev.access) rows.push({ key: `${d}_access`, value: dev.access });
  if (dev.tag !== undefined) rows.push({ key: `${d}_tag`, value: dev.tag });
  if (dev.security !== undefined) rows.push({ key: `${d}_security`, value: dev.security });
  if (dev.mount !== undefined && !dev.error) rows.push({ key: `${d}_mount`, value: dev.mount });
  if (dev.error) rows.push({ key: `${d}_error`, value: dev.error });
  if (dev.chainError) {
    rows.push({ key: `${d}_image_error`, value: dev.chainError });
  }
  dev.chain?.forEach((img, i) => {
    const key = i === 0 ? d : `${d}_backing${i}`;
    if (i > 0) {
      const stored = dev.chain![i - 1].backingFilename;
      rows.push({
        key,
        value: img.filename,
        comment: stored !== null && stored !== img.filename ? `stored as ${stored}` : undefined,
      });
    }
    rows.push({ key: `${key}_format`, value: img.format });
    rows.push({ key: `${key}_virtual_size`, value: humanSize(img.virtualSize) });
    if (img.actualSize !== null) {
      rows.push({ key: `${key}_disk_size`, value: humanSize(img.actualSize) });
    }
  });
  return rows;
}

/** The text form of the storage part. */
export function formatStorage(devices: readonly StorageDevice[]): string {
  return formatSection("storage", devices.flatMap(storageRows));
}
