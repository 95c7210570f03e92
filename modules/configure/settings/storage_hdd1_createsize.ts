import type { ConfigureContext } from "../../../lib/modules/api.ts";

/**
 * A new VM without a first disk is offered a blank qcow2 image (`40G`
 * proposed, `0` for none), created in its home as `hdd.qcow2`.
 * `vm_storage_hdd1_createsize` given with `-o` answers the question. Sizes
 * read as everywhere (a plain number is MiB); qemu-img, which reads a plain
 * number as bytes, is given whole MiB with the unit.
 */
export default async function storageHdd1Createsize(
  ctx: ConfigureContext,
): Promise<void> {
  const { settings, set, askSize, createDisk, dir, bare, sizeMiB } = ctx;
  const name = "vm_storage_hdd1_createsize";
  if (bare || settings.bool("vm_storage_hdd1_enable")) return;
  let mib: number;
  if (settings.get(name)) {
    mib = Math.ceil(settings.size(name) / 2 ** 20);
  } else {
    mib = sizeMiB(name, await askSize("Size of a new blank disk (0 for none)", name, "40G"));
  }
  if (mib === 0) return;
  await createDisk(`${dir}/hdd.qcow2`, withUnit(mib));
  set("vm_storage_hdd1_enable", "yes");
  set("vm_storage_hdd1_backend", "hdd.qcow2");
}

/** Whole MiB in the largest unit that keeps them whole (`40960` is `40G`). */
function withUnit(mib: number): string {
  if (mib % 2 ** 20 === 0) return `${mib / 2 ** 20}T`;
  if (mib % 2 ** 10 === 0) return `${mib / 2 ** 10}G`;
  return `${mib}M`;
}
