import type { ConfigureContext } from "../../../lib/modules/api.ts";

/**
 * Offers to convert third-party disk images (vmdk, vdi, vhd, …) to qcow2:
 * into the VM home for a new VM, beside the image for a bare boot. Declined
 * images are used in snapshot mode.
 */
export default async function storageHddImport(
  ctx: ConfigureContext,
): Promise<void> {
  const { settings, set, ask, storage, convert, dir, bare } = ctx;
  for (const n of [1, 2]) {
    if (!settings.bool(`vm_storage_hdd${n}_enable`)) continue;
    const ref = storage.inspect(settings.get(`vm_storage_hdd${n}_backend`));
    const loc = ref.location;
    if (loc.kind !== "file" || ["raw", "qcow2", "iso"].includes(loc.format)) {
      continue;
    }
    if (loc.format === "ova") {
      throw new Error(
        `${loc.path}: .ova archives are not supported yet; extract the disk (tar xf) and pass it`,
      );
    }
    const answer = await ask(
      `Convert ${loc.path} (${loc.format}) to qcow2 (yes/no)`,
      "yes",
      (a) => /^(y|yes|n|no)$/i.test(a) ? undefined : "yes or no",
    );
    if (!/^y/i.test(answer)) continue;
    const base = loc.path.slice(loc.path.lastIndexOf("/") + 1).replace(
      /\.[^.]*$/,
      "",
    );
    const targetDir = bare ? loc.path.slice(0, loc.path.lastIndexOf("/")) : dir;
    const target = await convert(loc.path, `${targetDir}/${base}.qcow2`);
    set(
      `vm_storage_hdd${n}_backend`,
      bare ? target : target.slice(dir.length + 1),
    );
  }
}
