/**
 * A VM's drives as libvirt disks: the same drives, access modes and buses
 * the `storage_hdd` and `storage_cdrom` modules give QEMU, each disk image
 * with its format and its whole backing chain (read from the images, so
 * that libvirt neither guesses formats nor reads the chain itself).
 * @module
 */
import { VmError } from "../errors.ts";
import { dirname, resolve } from "../path.ts";
import type { Settings } from "../settings/settings.ts";
import { type Drive, enabledDrives } from "../storage/drives.ts";
import {
  type Access,
  detectFormat,
  effectiveAccess,
  type ImageFormat,
  inspectStorage,
  parseAccess,
  type StorageRef,
} from "../storage/inspect.ts";
import type { StorageFacts } from "../storage/preflight.ts";
import { backingOf } from "../storage/qemuimg.ts";
import type { DiskSpec, ImageSpec, SourceSpec } from "./spec.ts";

/** libvirt's names for the formats vmtools tells apart, where they differ. */
const DRIVER: Partial<Record<ImageFormat, string>> = { vhd: "vpc", iso: "raw" };
/** Formats that cannot have a backing file. */
const FLAT: readonly string[] = ["raw", "iso", "dmg"];
const BUSES = ["ide", "virtio", "scsi"];

/** The disks and CD-ROM drives of a VM, and whether they need a SCSI controller. */
export interface StorageSpec {
  /** One per enabled drive, disks before CD-ROM drives. */
  disks: DiskSpec[];
  /** Whether a virtio-scsi controller is needed (`vm_storage_hdd_interface=scsi` and some disk on it). */
  scsiController: boolean;
}

/**
 * Describes the enabled drives of the VM whose home (or runtime directory)
 * is `dir`. `facts` holds what vmup's own checks found on this host (a
 * device the user may read but not write gets snapshot mode, as under vmup).
 */
export async function describeStorage(
  settings: Settings,
  dir: string,
  facts?: StorageFacts,
): Promise<StorageSpec> {
  const cap = parseAccess(settings.get("vm_storage_rwmode") || "rw", "vm_storage_rwmode");
  const bus = settings.get("vm_storage_hdd_interface") || "ide";
  if (!BUSES.includes(bus)) {
    throw new VmError(`vm_storage_hdd_interface='${bus}': expected ide, virtio or scsi`);
  }
  // QEMU puts `if=ide` drives on the AHCI ports of a q35 machine; libvirt calls that bus sata.
  const ideBus = /q35/.test(settings.get("vm_qemu_machine")) ? "sata" : "ide";
  const limit = settings.int("cfg_limit_nesting");
  const disks: DiskSpec[] = [];
  for (const drive of enabledDrives(settings, dir)) {
    disks.push(
      drive.kind === "hdd"
        ? await hardDisk(drive, cap, bus === "ide" ? ideBus : bus as "virtio" | "scsi", limit, facts)
        : await cdrom(drive, ideBus, limit),
    );
  }
  return { disks, scsiController: bus === "scsi" && disks.some((d) => d.target.bus === "scsi") };
}

async function hardDisk(
  drive: Drive,
  cap: Access,
  bus: DiskSpec["target"]["bus"],
  limit: number,
  facts?: StorageFacts,
): Promise<DiskSpec> {
  const { n, backend, base, name } = drive;
  if (!backend) throw new VmError(`${name} is enabled but vm_storage_${name}_backend is empty`);
  const inspected = inspectStorage(backend, base);
  const ref = facts ? facts.refine(inspected) : inspected;
  const access = effectiveAccess(ref, cap);
  if (access === "ro" && (bus === "ide" || bus === "sata")) {
    throw new VmError(
      `${name} (${backend}): IDE disks cannot be read-only; use snapshot mode (snap:) or vm_storage_hdd_interface=virtio`,
    );
  }
  const { source, format, backing } = await located(ref, name, "disk", limit);
  return {
    name,
    device: "disk",
    source,
    format,
    backing,
    target: { dev: deviceName(bus, n - 1), bus },
    transient: access === "snap",
    readonly: access === "ro",
    discard: access === "rw" && source.type !== "network",
  };
}

async function cdrom(drive: Drive, bus: "ide" | "sata", limit: number): Promise<DiskSpec> {
  const { n, backend, base, name } = drive;
  // CD-ROMs sit after the two disks on the IDE bus, as QEMU's `index=n+1`.
  const target = { dev: deviceName(bus, n + 1), bus };
  const empty: DiskSpec = {
    name,
    device: "cdrom",
    format: "raw",
    target,
    transient: false,
    readonly: true,
    discard: false,
  };
  if (!backend) return empty;
  const ref = inspectStorage(backend, base);
  if (ref.prefix === "rw") {
    throw new VmError(`${name} (${backend}): CD-ROMs are read-only; 'rw:' does not apply`);
  }
  const { source, backing } = await located(ref, name, "cdrom", limit);
  // Like the storage_cdrom module: a CD-ROM image is read as it is, never probed.
  return { ...empty, source, format: source.type === "network" ? undefined : "raw", backing };
}

/** The source, format and backing chain of a drive's storage. */
async function located(
  ref: StorageRef,
  name: string,
  device: "disk" | "cdrom",
  limit: number,
): Promise<{ source: SourceSpec; format?: string; backing?: ImageSpec[] }> {
  const loc = ref.location;
  switch (loc.kind) {
    case "file": {
      if (loc.format === "ova") {
        throw new VmError(`${loc.path}: QEMU cannot read .ova archives; convert it with vmcreate first`);
      }
      const format = DRIVER[loc.format] ?? loc.format;
      const backing = device === "cdrom" ? [] : await chainBelow(loc.path, format, name, limit);
      return { source: { type: "file", path: loc.path }, format, backing };
    }
    case "device":
      return { source: { type: "block", path: loc.path }, format: "raw", backing: [] };
    case "dir":
      throw new VmError(
        `${name} (${loc.path}): a directory cannot be given to libvirt; make an image of it (or an ISO for a CD-ROM) and use that`,
      );
    case "url":
      return { source: networkSource(loc.url, name), format: urlFormat(loc.url, device) };
  }
}

/**
 * The backing files below the image at `path` (in `format`), nearest
 * first: paths as QEMU reads them (relative to the image naming them),
 * formats from the images' headers or, where an image names none, their
 * content. Undefined when a backing file is named by a URL or a protocol:
 * libvirt then reads the chain itself.
 */
async function chainBelow(
  path: string,
  format: string,
  name: string,
  limit: number,
): Promise<ImageSpec[] | undefined> {
  const chain: ImageSpec[] = [];
  const seen = new Set([path]);
  let image = path, imageFormat = format;
  while (!FLAT.includes(imageFormat)) {
    let backing;
    try {
      backing = await backingOf(image);
    } catch (e) {
      throw new VmError(`${name}: ${image}: cannot read its backing file: ${(e as Error).message}`);
    }
    if (backing.backingFilename === null) return chain;
    if (/^[a-z][a-z0-9+.-]*:/i.test(backing.backingFilename)) return undefined;
    const next = resolve(backing.backingFilename, dirname(image));
    if (seen.has(next) || chain.length >= limit) {
      throw new VmError(`${name}: the backing chain of ${path} loops or is deeper than ${limit}`);
    }
    seen.add(next);
    let size: number;
    try {
      size = Deno.statSync(next).size;
    } catch (e) {
      throw new VmError(`${name}: ${image}: backing file ${next}: ${(e as Error).message}`);
    }
    const detected = detectFormat(next, size);
    imageFormat = backing.backingFormat ?? DRIVER[detected] ?? detected;
    chain.push({ source: { type: "file", path: next }, format: imageFormat });
    image = next;
  }
  return chain;
}

/** A drive URL as a libvirt network source. */
function networkSource(url: string, name: string): SourceSpec {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new VmError(`${name} (${url}): not a URL libvirt can take`);
  }
  if (u.username || u.password) {
    throw new VmError(
      `${name} (${url}): libvirt takes no credentials in a URL; give them to libvirt as a secret`,
    );
  }
  const protocol = u.protocol.slice(0, -1).toLowerCase();
  const path = decodeURIComponent(u.pathname);
  // An NBD export or an iSCSI target/LUN is named without the leading slash.
  const named = protocol === "nbd" || protocol === "iscsi" ? path.replace(/^\//, "") : path;
  return {
    type: "network",
    protocol,
    name: named,
    host: u.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: u.port ? Number(u.port) : undefined,
    query: u.search ? u.search.slice(1) : undefined,
  };
}

/** libvirt never probes a format: a remote image is qcow2 when its name says so, raw otherwise. */
function urlFormat(url: string, device: "disk" | "cdrom"): string {
  return device === "disk" && /\.qcow2$/i.test(new URL(url).pathname) ? "qcow2" : "raw";
}

/** `hda`, `sdb`, `vdc`, … for drive index `index` on `bus`. */
function deviceName(bus: DiskSpec["target"]["bus"], index: number): string {
  const prefix = bus === "ide" ? "hd" : bus === "virtio" ? "vd" : "sd";
  return prefix + String.fromCharCode(97 + index);
}
