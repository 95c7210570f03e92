/**
 * What `vmup --json` and `vmcreate --json` print: a stable interface for
 * scripts, documented in vmtools(7). Fields are only ever added.
 * @module
 */
import type { Forward } from "../qemu/forwards.ts";
import { assignments, readSettingsFile, templatesOf } from "../settings/file.ts";
import type { UpResult } from "./up.ts";

/** One VM that `vmup` started or found running. */
export interface UpReport {
  /** The VM's `vm_name`. */
  name: string;
  /** The VM home, or a bare boot's runtime directory (absolute). */
  home: string;
  /**
   * QEMU's process id; `null` when it is not running (`vmcreate -n`, a
   * foreground run that ended) or runs under libvirt on another host.
   */
  pid: number | null;
  /** `vnc://…`, `spice://…`, a window type, `none`, or `?`. */
  display: string | null;
  /** The serial console socket, `null` when vmtools serves none. */
  serial: string | null;
  /** The file the guest's serial output goes to, `null` when none. */
  log: string | null;
  /** The QMP socket; `null` under libvirt, which keeps QEMU's monitor to itself. */
  monitor: string | null;
  /** The port forwards QEMU set up (host ports it picked included). */
  forwards: Forward[];
  /** What runs it: `qemu` (vmup itself) or `libvirt` (`vmup --libvirt`). */
  engine: "qemu" | "libvirt";
  /** The libvirt connection URI; `null` for `qemu`. */
  uri: string | null;
}

/** The report of one `up` result. */
export function upReport(r: UpResult): UpReport {
  const running = r.pid !== undefined || r.libvirt !== undefined;
  return {
    name: r.name,
    home: r.files.dir,
    pid: r.pid ?? null,
    display: running ? r.display ?? null : null,
    serial: running ? r.serial ?? null : null,
    log: running ? r.log ?? null : null,
    monitor: r.libvirt ? null : r.files.monitor,
    forwards: running ? r.forwards ?? [] : [],
    engine: r.libvirt ? "libvirt" : "qemu",
    uri: r.libvirt?.uri ?? null,
  };
}

/** One VM that `vmcreate` created. */
export interface CreateReport {
  /** The new VM home (absolute). */
  home: string;
  /** The templates the settings file applies. */
  templates: string[];
  /** The values the settings file holds, as written (only what differs from what the VM inherits). */
  settings: Record<string, string>;
  /** The VM as `vmup --json` describes it once started; `null` with `-n`. */
  started: UpReport | null;
}

/** The report of a VM just created at `home` with the settings file `settingsPath` (not started yet). */
export function createReport(home: string, settingsPath: string): CreateReport {
  const file = readSettingsFile(settingsPath, "vm");
  return {
    home,
    templates: templatesOf(file),
    settings: Object.fromEntries(assignments(file)),
    started: null,
  };
}

/** The JSON text of a report, indented, ending with a line break. */
export function formatJson(items: readonly unknown[]): string {
  return JSON.stringify(items, null, 2) + "\n";
}
