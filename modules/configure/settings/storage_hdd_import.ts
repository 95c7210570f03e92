import type { ConfigureContext } from "../../../lib/modules/api.ts";

/**
 * Offers to convert third-party disk images (vmdk, vdi, vhd, …) to qcow2:
 * into the VM home for a new VM, beside the image for a bare boot. Declined
 * images are used in snapshot mode. A conversion never writes over a file:
 * when `NAME.qcow2` exists the question proposes `NAME-1.qcow2` (the next
 * free name); with `-y`, where nobody could agree to another name, it is an
 * error naming the file.
 */
export default async function storageHddImport(
  ctx: ConfigureContext,
): Promise<void> {
  const { set, confirm, storage, convert, dir, bare, assumeYes } = ctx;
  for (const { n, backend, base } of storage.drives(["hdd"])) {
    const ref = storage.inspect(backend, base);
    const loc = ref.location;
    if (loc.kind !== "file" || ["raw", "qcow2", "iso"].includes(loc.format)) {
      continue;
    }
    // Machine descriptions were imported before the modules ran.
    if (loc.format === "ova" || loc.format === "vmx") continue;
    const name = loc.path.slice(loc.path.lastIndexOf("/") + 1).replace(/\.[^.]*$/, "");
    const targetDir = bare ? loc.path.slice(0, loc.path.lastIndexOf("/")) : dir;
    const preferred = `${targetDir}/${name}.qcow2`;
    const target = freeName(targetDir, name);
    if (target !== preferred && assumeYes) {
      throw new Error(
        `${preferred} already exists: not converting ${loc.path} over it (answer the question without -y to pick another name)`,
      );
    }
    const note = target === preferred ? "" : ` (${name}.qcow2 exists)`;
    if (!await confirm(`Convert ${loc.path} (${loc.format}) to qcow2 as ${target}${note}`, true)) continue;
    const made = await convert(loc.path, target);
    set(`vm_storage_hdd${n}_backend`, bare ? made : made.slice(dir.length + 1));
  }
}

/** `DIR/NAME.qcow2`, or the first of `NAME-1.qcow2`, `NAME-2.qcow2`, … that does not exist. */
function freeName(dir: string, name: string): string {
  for (let i = 0;; i++) {
    const path = `${dir}/${name}${i ? `-${i}` : ""}.qcow2`;
    try {
      Deno.lstatSync(path);
    } catch {
      return path;
    }
  }
}
