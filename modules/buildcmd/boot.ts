import type { BuildcmdContext } from "../../lib/modules/api.ts";

const DRIVES = /^[a-p]*$/;

/**
 * Boot order (`vm_boot_order`), a one-time first boot device
 * (`vm_boot_once`, which vmup clears once the VM has started: an installer
 * CD boots once, the installed disk after the guest's reboot) and the
 * firmware boot menu (`vm_boot_menu`).
 */
export default function boot({ settings, qemu }: BuildcmdContext): void {
  const parts: string[] = [];
  for (const [name, key] of [["vm_boot_order", "order"], ["vm_boot_once", "once"]]) {
    const drives = settings.get(name);
    if (!DRIVES.test(drives)) {
      throw new Error(`${name}='${drives}': expected drive letters a-p (c disk, d CD-ROM, n network)`);
    }
    if (drives) parts.push(`${key}=${drives}`);
  }
  if (settings.bool("vm_boot_menu")) parts.push("menu=on");
  if (parts.length) qemu.add("-boot", parts.join(","));
}
