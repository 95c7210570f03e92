import type { BuildcmdContext } from "../../lib/modules/api.ts";

/** Guest memory (`vm_ram_size`), passed to QEMU in MiB. */
export default function ram({ settings, qemu }: BuildcmdContext): void {
  const mib = Math.ceil(settings.size("vm_ram_size") / 2 ** 20);
  if (mib < 1) {
    throw new Error(
      `vm_ram_size='${settings.get("vm_ram_size")}' is too small`,
    );
  }
  qemu.add("-m", `${mib}M`);
}
