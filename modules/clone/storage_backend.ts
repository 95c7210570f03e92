import type { CloneContext, Drive } from "../../lib/modules/api.ts";

/**
 * Carries the source's disks over to the new VM: a fork gets an overlay on
 * each (instant, whatever the size), a copy a copy (an overlay stays one),
 * an autonomous copy a flattened image; with `-s` the new VM uses the
 * source's images themselves in snapshot mode. Disks that are not image
 * files (devices, directories, URLs) cannot be overlaid or copied: they are
 * shared in snapshot mode, with a warning. CD-ROMs are left as they are.
 */
export default async function storageBackend(ctx: CloneContext): Promise<void> {
  const { drives, storage, disks, set, mode, snapshot, log } = ctx;
  const used = new Set<string>();
  for (const drive of drives(["hdd"])) {
    if (!drive.backend) continue;
    const ref = storage.inspect(drive.backend, drive.base);
    const loc = ref.location;
    const setting = `vm_storage_${drive.name}_backend`;
    if (loc.kind !== "file") {
      log.warn(`${drive.name} (${drive.backend}) is not an image: the new VM uses it in snapshot mode`);
      // Where it is, not the value as written: relative to the source's home, and with its own prefix.
      set(setting, loc.kind === "url" ? `snap:${loc.url}` : disks.share(loc.path));
      continue;
    }
    if (snapshot) {
      set(setting, disks.share(loc.path));
      continue;
    }
    // A copy keeps the image's name and format; an overlay or a flattened image is qcow2.
    const name = fileName(drive, loc.path, mode !== "copy", used);
    const value = mode === "fork"
      ? await disks.overlay(loc.path, name)
      : mode === "copy"
      ? await disks.copy(loc.path, name)
      : await disks.flatten(loc.path, name);
    set(setting, value);
  }
}

/** The image's own name (as `.qcow2` when `qcow2`), or `hddN-NAME` when another disk of this VM took it. */
function fileName(drive: Drive, path: string, qcow2: boolean, used: Set<string>): string {
  let name = path.slice(path.lastIndexOf("/") + 1);
  if (qcow2 && !/\.qcow2$/.test(name)) name = name.replace(/\.(img|raw)$/i, "") + ".qcow2";
  if (used.has(name)) name = `${drive.name}-${name}`;
  used.add(name);
  return name;
}
