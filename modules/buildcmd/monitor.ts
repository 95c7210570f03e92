import type { BuildcmdContext } from "../../lib/modules/api.ts";

/**
 * The QMP control socket, always present so vmps, vmdown and vmmon work
 * whichever way QEMU runs; in the foreground the human monitor also takes
 * the terminal.
 */
export default function monitor(
  { settings, qemu, files, storage }: BuildcmdContext,
): void {
  qemu.add("-qmp", `unix:${storage.escape(files.monitor)},server=on,wait=off`);
  if (!settings.bool("vm_qemu_daemonize")) qemu.add("-monitor", "stdio");
}
