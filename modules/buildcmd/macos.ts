import type { BuildcmdContext } from "../../lib/modules/api.ts";

/**
 * The Apple SMC a macOS guest checks for (`vm_macos_osk`, the key it
 * expects): `-device isa-applesmc,osk=KEY`. Nothing when the key is empty.
 */
export default function macos({ settings, qemu, storage }: BuildcmdContext): void {
  const osk = settings.get("vm_macos_osk");
  if (osk) qemu.add("-device", `isa-applesmc,osk=${storage.escape(osk)}`);
}
