import type { BuildcmdContext, StorageRef } from "../../lib/modules/api.ts";

// QEMU's driver names for the formats vmtools tells apart.
const DRIVER: Record<string, string> = { vhd: "vpc", iso: "raw" };
// URL schemes QEMU reads with its curl driver, which cannot write.
const READ_ONLY_SCHEMES = ["http", "https", "ftp", "ftps"];

/**
 * Hard disks 1 and 2 (`vm_storage_hddN_*`): image files, block devices,
 * directories (as a virtual FAT disk) and URLs, in the access mode the
 * prefix, the location and `vm_storage_rwmode` allow.
 */
export default function storageHdd(
  { settings, qemu, storage }: BuildcmdContext,
): void {
  const bus = settings.get("vm_storage_hdd_interface") || "ide";
  if (!["ide", "virtio", "scsi"].includes(bus)) {
    throw new Error(
      `vm_storage_hdd_interface='${bus}': expected ide, virtio or scsi`,
    );
  }
  if (bus === "scsi") qemu.add("-device", "virtio-scsi-pci,id=scsi0");
  for (const { n, backend, base } of storage.drives(["hdd"])) {
    if (!backend) {
      throw new Error(
        `hdd${n} is enabled but vm_storage_hdd${n}_backend is empty`,
      );
    }
    const ref = storage.inspect(backend, base);
    const access = storage.access(ref);
    if (access === "ro" && bus === "ide") {
      throw new Error(
        `hdd${n} (${backend}): IDE disks cannot be read-only; use snapshot mode (snap:) or vm_storage_hdd_interface=virtio`,
      );
    }
    // QEMU's curl driver only reads; QEMU would say no more than "Block node is read-only".
    const loc = ref.location;
    if (access === "rw" && loc.kind === "url" && READ_ONLY_SCHEMES.includes(loc.scheme)) {
      throw new Error(
        `hdd${n} (${backend}): QEMU cannot write to ${loc.scheme} URLs; use snapshot mode (snap:, the default)`,
      );
    }
    const opts = [...source(ref, access, storage.escape), `id=hdd${n}`];
    if (access === "snap") opts.push("snapshot=on");
    if (access === "ro") opts.push("readonly=on");
    if (access === "rw" && ref.location.kind !== "url") {
      opts.push("discard=unmap", "detect-zeroes=unmap");
    }
    if (bus === "ide") opts.push("if=ide", `index=${n - 1}`, "media=disk");
    else if (bus === "virtio") opts.push("if=virtio");
    else opts.push("if=none");
    qemu.add("-drive", opts.join(","));
    if (bus === "scsi") {
      qemu.add("-device", `scsi-hd,drive=hdd${n},bus=scsi0.0`);
    }
  }
}

function source(
  ref: StorageRef,
  access: string,
  escape: (s: string) => string,
): string[] {
  const loc = ref.location;
  switch (loc.kind) {
    case "file":
      if (loc.format === "ova" || loc.format === "vmx") {
        throw new Error(
          `${loc.path}: QEMU cannot read ${
            loc.format === "ova" ? "an .ova archive" : "a .vmx file"
          }; import it with vmcreate -c or boot it alone with vmup`,
        );
      }
      return [
        `file=${escape(loc.path)}`,
        `format=${DRIVER[loc.format] ?? loc.format}`,
      ];
    case "device":
      return [`file=${escape(loc.path)}`, "format=raw"];
    case "dir":
      return [
        `file=fat:${access === "rw" ? "rw:" : ""}${escape(loc.path)}`,
        "format=raw",
      ];
    case "url": {
      // Block-level exports are raw disks; for the rest, the format the check before the start read.
      const format = /^(nbd|iscsi)/.test(loc.scheme) ? "raw" : loc.format;
      return [`file=${escape(loc.url)}`, ...(format ? [`format=${DRIVER[format] ?? format}`] : [])];
    }
  }
}
