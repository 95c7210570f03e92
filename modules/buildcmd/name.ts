import type { BuildcmdContext } from "../../lib/modules/api.ts";

/** The VM's name, shown in window titles and by vmps. */
export default function name(
  { settings, qemu, storage }: BuildcmdContext,
): void {
  const value = settings.get("vm_name");
  if (value) qemu.add("-name", storage.escape(value));
}
