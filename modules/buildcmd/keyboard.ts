import type { BuildcmdContext } from "../../lib/modules/api.ts";

/** Keyboard layout for VNC and SPICE clients (`vm_keyboard_mapping`). */
export default function keyboard({ settings, qemu }: BuildcmdContext): void {
  const map = settings.get("vm_keyboard_mapping");
  if (map) qemu.add("-k", map);
}
