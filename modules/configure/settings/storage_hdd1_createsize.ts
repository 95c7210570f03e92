import type { ConfigureContext } from "../../../lib/modules/api.ts";

/**
 * A new VM without a first disk is offered a blank qcow2 image (`40G`
 * proposed, `0` for none), created in its home as `hdd.qcow2`.
 * `vm_storage_hdd1_createsize` given with `-o` answers the question.
 */
export default async function storageHdd1Createsize(
  ctx: ConfigureContext,
): Promise<void> {
  const { settings, set, ask, createDisk, dir, bare } = ctx;
  if (bare || settings.bool("vm_storage_hdd1_enable")) return;
  const preset = settings.get("vm_storage_hdd1_createsize");
  const size = preset || await ask(
    "Size of a new blank disk (0 for none)",
    "40G",
    (a) => /^(0|\d+(\.\d+)?[MGT])$/i.test(a) ? undefined : "0 or a size such as 20G",
  );
  if (size === "0") return;
  await createDisk(`${dir}/hdd.qcow2`, size.toUpperCase());
  set("vm_storage_hdd1_enable", "yes");
  set("vm_storage_hdd1_backend", "hdd.qcow2");
}
