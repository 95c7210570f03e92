/**
 * PCI slots for the devices that reach QEMU through `<qemu:commandline>`.
 * libvirt gives each of its own devices a fixed slot from the lowest free
 * one up, and QEMU plugs a `-device` without an address into the lowest
 * free slot before it gets to libvirt's: the two collide ("PCI: slot 2
 * function 0 not available for VGA"). Such devices are placed from the top
 * of the root bus down instead, where libvirt does not reach with the few
 * devices of a vmtools VM. A `-virtfs` (a 9p share: a file system device
 * and its virtio-9p device in one option, which takes no address) is
 * written as its two parts, so that its device gets a slot too.
 * @module
 */
import { VmError } from "../errors.ts";

/**
 * QEMU device drivers that sit on a PCI bus: `…-pci`, virtio devices (PCI on
 * a PC), the PC NIC models, and the AHCI controller (the cloud-init seed's
 * on a PC).
 */
const PCI_DRIVER =
  /-pci$|^virtio-(?!.*-(?:device|ccw|mmio)$)|^(?:e1000|e1000e|e1000-8254\d\w*|rtl8139|pcnet|vmxnet3|i8255\d\w*|ne2k_pci|igb|ahci|ich9-ahci)$/;

/** The highest slot of the root bus that is free: q35 keeps 0x1f for its LPC, SATA and SMBus functions. */
function topSlot(machine: string | undefined): number {
  return /q35/.test(machine ?? "") ? 0x1e : 0x1f;
}

/** The lowest slot handed out this way: below it, libvirt's own devices may be. */
const LOWEST = 0x10;

/**
 * `args` with `addr=0xNN` added to every `-device` of a PCI driver that
 * names neither a bus nor an address, in order from the top slot down
 * (`-virtfs` split into `-fsdev` and `-device` first).
 */
export function placePciDevices(given: readonly string[], machine: string | undefined): string[] {
  const args = splitVirtfs(given);
  let slot = topSlot(machine);
  return args.map((arg, i) => {
    if (args[i - 1] !== "-device" || arg.startsWith("{")) return arg;
    const [driver, ...options] = arg.split(",");
    if (!PCI_DRIVER.test(driver) || options.some((o) => /^(?:bus|addr)=/.test(o))) return arg;
    if (slot < LOWEST) {
      throw new VmError(`${driver}: too many PCI devices passed to QEMU through <qemu:commandline>`);
    }
    return `${arg},addr=0x${(slot--).toString(16)}`;
  });
}

/** The options of a QEMU option value, split at the commas that are not doubled (`,,` is a comma in a value). */
function splitOptions(value: string): string[] {
  const out = [""];
  for (let i = 0; i < value.length; i++) {
    if (value[i] !== ",") out[out.length - 1] += value[i];
    else if (value[i + 1] === ",") out[out.length - 1] += value[i++] + ",";
    else out.push("");
  }
  return out;
}

/** The options of `-virtfs` that belong to its device; the others are the file system's. */
const DEVICE_OPTIONS = ["mount_tag"];

/** Each `-virtfs DRIVER,…,mount_tag=TAG` as `-fsdev DRIVER,id=ID,…` and `-device virtio-9p-pci,fsdev=ID,mount_tag=TAG`. */
function splitVirtfs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] !== "-virtfs" || i + 1 >= args.length) {
      out.push(args[i]);
      continue;
    }
    const [driver, ...options] = splitOptions(args[++i]);
    const named = (o: string) => DEVICE_OPTIONS.includes(o.split("=")[0]);
    const tag = options.find((o) => o.startsWith("mount_tag="))?.slice(10);
    // QEMU names the file system after its tag when the share has no id.
    const id = options.find((o) => o.startsWith("id="))?.slice(3) ?? tag;
    const fs = options.filter((o) => !named(o) && !o.startsWith("id="));
    out.push("-fsdev", [driver, `id=${id}`, ...fs].join(","));
    out.push("-device", ["virtio-9p-pci", `fsdev=${id}`, ...options.filter(named)].join(","));
  }
  return out;
}
