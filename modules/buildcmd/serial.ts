import type { BuildcmdContext } from "../../lib/modules/api.ts";

/** The id of vmtools' own character device: QEMU names the ones it makes itself `serial0`, `serial1`… */
const CHARDEV = "vmtools-serial0";

/**
 * The guest's first serial port (`vm_serial_mode`): `socket` serves it on a
 * unix socket and logs everything to the log file, `log` only logs, `none`
 * disconnects it. A `-serial` already on the command line (from
 * `vm_qemu_params`) takes the port over: vmtools' own console steps aside.
 */
export default function serial(
  { settings, qemu, files, storage, log: say }: BuildcmdContext,
): void {
  if (qemu.has("-serial")) {
    say.step(
      `vm_qemu_params give -serial ${qemu.valueOf("-serial")}: vmtools' serial console ` +
        `(vm_serial_mode=${settings.get("vm_serial_mode")}) steps aside`,
    );
    return;
  }
  const mode = settings.get("vm_serial_mode");
  const log = storage.escape(files.serialLog);
  switch (mode) {
    case "socket":
      qemu.add(
        "-chardev",
        `socket,id=${CHARDEV},path=${storage.escape(files.serial)},server=on,wait=off,logfile=${log}`,
        "-serial",
        `chardev:${CHARDEV}`,
      );
      break;
    case "log":
      qemu.add(
        "-chardev",
        `file,id=${CHARDEV},path=${log}`,
        "-serial",
        `chardev:${CHARDEV}`,
      );
      break;
    case "none":
      qemu.add("-serial", "none");
      break;
    default:
      throw new Error(`vm_serial_mode='${mode}': expected socket, log or none`);
  }
}
