import type { BuildcmdContext } from "../../lib/modules/api.ts";

/** Boot order (`vm_boot_order`) and firmware boot menu (`vm_boot_menu`). */
export default function boot({ settings, qemu }: BuildcmdContext): void {
  const order = settings.get("vm_boot_order");
  if (!/^[a-p]*$/.test(order)) {
    throw new Error(
      `vm_boot_order='${order}': expected drive letters a-p (c disk, d CD-ROM, n network)`,
    );
  }
  const parts = order ? [`order=${order}`] : [];
  if (settings.bool("vm_boot_menu")) parts.push("menu=on");
  if (parts.length) qemu.add("-boot", parts.join(","));
}
