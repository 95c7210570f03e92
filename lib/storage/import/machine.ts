/**
 * A machine made elsewhere, as its description (an OVF descriptor in an
 * `.ova`, a VMware `.vmx`) tells it: what a new VM should propose to the
 * user, and where its disks are.
 * @module
 */

/** The values a machine description proposes for the new VM's questions. */
export interface MachineProposals {
  /** Its display name (`vm_name`). */
  name?: string;
  /** Its memory, in MiB (`vm_ram_size`). */
  memoryMiB?: number;
  /** Its number of virtual CPUs (`vm_cpu_count`). */
  cpus?: number;
  /** How many network adapters it has (unset: the description does not say). */
  nics?: number;
  /** The MAC address of its first network adapter, lower case. */
  mac?: string;
}

/** One disk of an imported machine, in the order the machine has them. */
export type MachineDisk =
  /** An image file of its own, used or converted as any other (a `.vmx`'s disks). */
  | { kind: "file"; path: string }
  /**
   * A file inside an archive: `image` is what qemu-img reads it by (a
   * `json:` name giving the format and the file's place in the archive).
   */
  | { kind: "member"; name: string; image: string; format: string; bytes: number }
  /** An empty disk of `bytes` the description asks for, with no file behind it. */
  | { kind: "blank"; name: string; bytes: number };

/** A machine description read from `path`. */
export interface Machine extends MachineProposals {
  /** The `.ova` or `.vmx` file. */
  path: string;
  /** What `path` is. */
  kind: "ova" | "vmx";
  /** Its disks, in the description's order (a `.vmx`'s CD-ROM drives left out). */
  disks: MachineDisk[];
}

/** A name fit for `vm_name`: control characters and runs of blanks become one space. */
export function tidyName(text: string): string | undefined {
  // deno-lint-ignore no-control-regex
  const name = text.replace(/[\s\x00-\x1f\x7f]+/g, " ").trim();
  return name || undefined;
}

/** `aa:bb:cc:dd:ee:ff` in lower case, or undefined when `text` is not a MAC address. */
export function readMac(text: string): string | undefined {
  const mac = text.trim().toLowerCase().replaceAll("-", ":");
  return /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(mac) ? mac : undefined;
}
