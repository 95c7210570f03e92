import type { BuildcmdContext } from "../../lib/modules/api.ts";

/**
 * The guest's first serial port (`vm_serial_mode`): `socket` serves it on a
 * unix socket and logs everything to the log file, `log` only logs, `none`
 * disconnects it.
 */
export default function serial(
  { settings, qemu, files, storage }: BuildcmdContext,
): void {
  const mode = settings.get("vm_serial_mode");
  const log = storage.escape(files.serialLog);
  switch (mode) {
    case "socket":
      qemu.add(
        "-chardev",
        `socket,id=serial0,path=${storage.escape(files.serial)},server=on,wait=off,logfile=${log}`,
        "-serial",
        "chardev:serial0",
      );
      break;
    case "log":
      qemu.add(
        "-chardev",
        `file,id=serial0,path=${log}`,
        "-serial",
        "chardev:serial0",
      );
      break;
    case "none":
      qemu.add("-serial", "none");
      break;
    default:
      throw new Error(`vm_serial_mode='${mode}': expected socket, log or none`);
  }
}
