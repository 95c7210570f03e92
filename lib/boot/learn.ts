/**
 * What vmup learns about a VM it starts, beyond its pid and display, to
 * record it (so that vmps and vminfo need not ask QEMU) and report it
 * (`vmup --json`): where the guest's serial output goes, and the port
 * forwards QEMU set up.
 * @module
 */
import type { VmFiles } from "../modules/api.ts";
import { resolve } from "../path.ts";
import type { QmpClient } from "../qmp/client.ts";
import { type Forward, hasForwards, queryForwards } from "../qemu/forwards.ts";
import type { SerialOutputs } from "../running/record.ts";

/**
 * Reads from the QEMU arguments where the serial output goes: vmtools' own
 * character device (`id=vmtools-serial0`), or else the first `-serial`,
 * when it is a file (relative to the directory QEMU starts in: this one).
 */
export function serialOutputs(args: readonly string[], files: VmFiles): SerialOutputs {
  const own = args.find((a, i) => args[i - 1] === "-chardev" && /(?:^|,)id=vmtools-serial0(?:,|$)/.test(a));
  if (own !== undefined) {
    return { serial: own.startsWith("socket,") ? files.serial : null, log: files.serialLog };
  }
  const serial = args[args.indexOf("-serial") + 1];
  // QEMU takes what follows file: as the path, commas included.
  const log = args.includes("-serial") && serial?.startsWith("file:") ? resolve(serial.slice(5)) : null;
  return { serial: null, log };
}

/** The forwards QEMU set up; none asked for, none asked about (no round trip). */
export async function learnForwards(args: readonly string[], qmp: QmpClient): Promise<Forward[]> {
  return hasForwards(args) ? await queryForwards(qmp) ?? [] : [];
}
