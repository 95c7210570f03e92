import type { BuildcmdContext } from "../../lib/modules/api.ts";

/**
 * Guest memory (`vm_ram_size`), passed to QEMU in whole MiB, rounded up.
 * `settings.size` reads a plain number as MiB and refuses less than 16 MiB.
 */
export default function ram({ settings, qemu }: BuildcmdContext): void {
  qemu.add("-m", `${Math.ceil(settings.size("vm_ram_size") / 2 ** 20)}M`);
}
