/**
 * Checks of a VM's storage before QEMU starts, each turning what QEMU would
 * say in a stack of messages (or not say at all) into one line:
 *
 * - URLs are opened once by `qemu-img` (`remote.ts`): unreachable, 404, or
 *   no such protocol is an error; their format is noted, and an ISO image
 *   goes into a CD-ROM drive for a bare boot.
 * - Block devices (`device.ts`): not one, or not readable, is an error; a
 *   disk that is mounted or held by another device is refused; one the
 *   user may read but not write gets snapshot mode by default, and `rw:` on
 *   it is an error.
 * - Directories for hard disks must fit a virtual FAT disk (`vvfat.ts`).
 * - Local images and what they refer to must not reach into another VM
 *   (`reach.ts`).
 *
 * What was found is kept in {@linkcode StorageFacts}, through which the
 * buildcmd modules' `storage.inspect` sees it.
 * @module
 */
import { VmError } from "../errors.ts";
import type { Settings } from "../settings/settings.ts";
import type { Logger } from "../ui/log.ts";
import type { DeviceState } from "./device.ts";
import { enabledDrives } from "./drives.ts";
import { type Access, type ImageFormat, inspectStorage, parseAccess, type StorageRef } from "./inspect.ts";
import { checkChain, type HomeFinder, ReachCheck } from "./reach.ts";
import { checkFitsVvfat, fatBytes } from "./vvfat.ts";

/** What the looks before QEMU starts found, by URL and device path. */
export class StorageFacts {
  readonly #urls = new Map<string, ImageFormat | undefined>();
  readonly #devices = new Map<string, DeviceState>();
  readonly #fat = new Map<string, number>();
  readonly #chains = new Set<string>();

  /** `ref` with what was found out about its location added. */
  refine(ref: StorageRef): StorageRef {
    const loc = ref.location;
    if (loc.kind === "url" && this.#urls.has(loc.url)) {
      return { ...ref, location: { ...loc, format: this.#urls.get(loc.url) } };
    }
    if (loc.kind === "device" && this.#devices.has(loc.path)) {
      return { ...ref, location: { ...loc, writable: this.#devices.get(loc.path)!.writable } };
    }
    return ref;
  }

  /** Looks at the URL of `ref` unless done already; returns `ref` refined. */
  async url(ref: StorageRef, log: Logger): Promise<StorageRef> {
    const loc = ref.location;
    if (loc.kind !== "url") return ref;
    if (!this.#urls.has(loc.url)) {
      // Loaded on the path that needs it: most VMs have no URL and no device.
      const { lookAtUrl } = await import("./remote.ts");
      this.#urls.set(loc.url, await lookAtUrl(loc.url, loc.scheme, log));
    }
    return this.refine(ref);
  }

  /** Looks at the block device `path` unless done already. */
  async device(path: string, log: Logger): Promise<DeviceState> {
    let state = this.#devices.get(path);
    if (!state) {
      const { lookAtDevice } = await import("./device.ts");
      state = await lookAtDevice(path, log);
      this.#devices.set(path, state);
    }
    return state;
  }

  /**
   * Checks the chain of the local image `path` (see `reach.ts`) unless done
   * already: a bare boot looks before it asks, and again with the drives.
   */
  chain(what: string, path: string, finder?: HomeFinder): void {
    if (this.#chains.has(path)) return;
    checkChain(what, path, finder);
    this.#chains.add(path);
  }

  /** The room the directory `path` takes on a FAT disk, walked once. */
  fatBytes(path: string): number {
    let bytes = this.#fat.get(path);
    if (bytes === undefined) {
      bytes = fatBytes(path);
      this.#fat.set(path, bytes);
    }
    return bytes;
  }
}

/**
 * Parses the storage argument `spec` (relative to `base`) and, for a URL,
 * looks at it: what a bare boot needs to choose between a disk and a
 * CD-ROM drive. A local image's chain is checked (`reach.ts`) before
 * anything is asked or made with it.
 */
export async function inspectAndLook(
  spec: string,
  facts: StorageFacts,
  log: Logger,
  base?: string,
): Promise<StorageRef> {
  const ref = inspectStorage(spec, base);
  if (ref.location.kind === "file") facts.chain(spec, ref.location.path);
  return await facts.url(ref, log);
}

/**
 * Checks the enabled drives of a VM whose home (or runtime directory) is
 * `dir`, recording what it finds in `facts`. A backend that cannot even be
 * parsed is left to the modules, which say so in their words.
 */
export async function checkStorage(
  settings: Settings,
  dir: string,
  facts: StorageFacts,
  log: Logger,
): Promise<void> {
  const cap = parseAccess(settings.get("vm_storage_rwmode") || "rw", "vm_storage_rwmode");
  const reach = new ReachCheck(settings, facts);
  for (const drive of enabledDrives(settings, dir)) {
    if (!drive.backend) continue;
    let ref: StorageRef;
    try {
      ref = inspectStorage(drive.backend, drive.base);
    } catch {
      continue;
    }
    reach.drive(drive, ref);
    await checkUsable(drive.name, ref, facts, log);
    if (ref.location.kind === "device" && drive.kind === "hdd") {
      checkDeviceAccess(drive.name, ref, await facts.device(ref.location.path, log), cap, log);
    }
  }
}

/**
 * The checks of storage for drive `name` (`hdd1`, `cdrom2`) that the VM's
 * settings do not change: a URL opens, a block device is one that the user
 * may read and, for a disk, is not in use; a directory for a disk fits a
 * virtual FAT disk. A bare boot makes them before it asks anything.
 */
export async function checkUsable(
  name: string,
  ref: StorageRef,
  facts: StorageFacts,
  log: Logger,
): Promise<void> {
  const loc = ref.location;
  const disk = name.startsWith("hdd");
  if (loc.kind === "url") await facts.url(ref, log);
  else if (loc.kind === "dir" && disk) checkFitsVvfat(loc.path, name, facts.fatBytes(loc.path));
  else if (loc.kind === "device") {
    const state = await facts.device(loc.path, log);
    const what = `${name} (${state.path})`;
    if (!state.readable) throw new VmError(`${what}: you may not read this device (${state.owner})`);
    // A CD-ROM is read-only on both sides: a disc the desktop mounted may go to the guest as well.
    if (disk && state.inUse.length) {
      throw new VmError(
        `${what}: in use on this host (${state.inUse.join("; ")}); a VM must not share a disk with it`,
      );
    }
  }
}

/** The access a disk on a block device gets when the user may read but not write it. */
function checkDeviceAccess(
  name: string,
  ref: StorageRef,
  state: DeviceState,
  cap: Access,
  log: Logger,
): void {
  const what = `${name} (${state.path})`;
  if (state.writable) return;
  if (ref.prefix === "rw") {
    throw new VmError(`${what}: rw: asked, but ${state.why}; use snap: or ro:`);
  }
  // Without a prefix it gets snapshot mode (defaultAccess); say so where rw was to be expected.
  if (ref.prefix === undefined && cap === "rw") {
    log.warn(
      `${what}: read-only for you (${state.why}): the guest's writes go to a throwaway overlay (snapshot mode)`,
    );
  }
}
