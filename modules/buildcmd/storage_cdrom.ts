import type { BuildcmdContext } from "../../lib/modules/api.ts";

/**
 * CD-ROM drives 1 and 2 (`vm_storage_cdromN_*`), always read-only: ISO
 * images, devices, URLs, directories (made into an ISO on the fly), or an
 * empty drive when no backend is set.
 */
export default async function storageCdrom(
  { qemu, storage }: BuildcmdContext,
): Promise<void> {
  for (const { n, backend, base } of storage.drives(["cdrom"])) {
    const slot = ["if=ide", `index=${n + 1}`, "media=cdrom"];
    if (!backend) {
      qemu.add("-drive", slot.join(","));
      continue;
    }
    const ref = storage.inspect(backend, base);
    if (ref.prefix === "rw") {
      throw new Error(
        `cdrom${n} (${backend}): CD-ROMs are read-only; 'rw:' does not apply`,
      );
    }
    const loc = ref.location;
    let file: string;
    if (loc.kind === "url") file = loc.url;
    else if (loc.kind === "dir") {
      file = await storage.isoFromDirectory(loc.path);
    } else file = loc.path;
    // What a CD-ROM drive reads is raw, whatever holds it: said, QEMU does not probe (and warn).
    qemu.add("-drive", [`file=${storage.escape(file)}`, "format=raw", "readonly=on", ...slot].join(","));
  }
}
