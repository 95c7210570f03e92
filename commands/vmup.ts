/**
 * `vmup`: start VM homes or anything bootable.
 * @module
 */
import type { Command } from "../lib/cli/command.ts";
import { session } from "../lib/cli/command.ts";
import type { ParsedArgs } from "../lib/cli/getopt.ts";
import { COMMON_OPTIONS, type OptionDecl } from "../lib/cli/spec.ts";
import { UsageError, VmError } from "../lib/errors.ts";
import { isVmHome } from "../lib/home/home.ts";
import { checkStorable, up, type UpOptions } from "../lib/boot/up.ts";
import { BUILTIN_MODULES } from "../modules/registry.ts";

/** Options shared by vmup and vmcreate (vmcreate words some of them its own way). */
export const UP_OPTIONS: readonly OptionDecl[] = [
  {
    short: "c",
    value: "s",
    repeats: true,
    complete: "storage",
    help: "attach storage s as a hard disk",
  },
  {
    short: "C",
    value: "s",
    repeats: true,
    complete: "storage",
    help: "attach storage s as a hard disk and boot from it",
  },
  {
    short: "d",
    value: "s",
    repeats: true,
    complete: "storage",
    help: "attach storage s as a CD-ROM",
  },
  {
    short: "D",
    value: "s",
    repeats: true,
    complete: "storage",
    help: "attach storage s as a CD-ROM and boot from it",
  },
  { short: "b", help: "show the firmware boot menu" },
  { short: "i", help: "keep QEMU in the foreground, monitor on this terminal" },
  { short: "n", help: "do not boot: print the QEMU command on stdout" },
  { short: "r", help: "read-only mode for every disk" },
  { short: "s", help: "snapshot mode for every disk" },
  {
    short: "o",
    value: "k=v",
    repeats: true,
    complete: "setting",
    help: "set a setting for this run (repeatable)",
  },
  { short: "t", value: "tpl", repeats: true, complete: "template", help: "apply a template for this run" },
  { short: "y", help: "take the proposed answer to every question" },
  { short: "z", help: "compress images that get converted" },
  ...COMMON_OPTIONS,
];

/** Reads the vmup/vmcreate options into an {@linkcode UpOptions}. */
export function upOptions(
  args: ParsedArgs,
  overrides: [string, string][],
): UpOptions {
  const v = args.values;
  const runOnly: [string, string][] = [];
  if (args.count.b) runOnly.push(["vm_boot_menu", "yes"]);
  if (args.count.z) runOnly.push(["vm_qemu_compress", "yes"]);
  const accessCap = args.count.r ? "ro" : args.count.s ? "snap" : undefined;
  for (const spec of [...(v.C ?? []), ...(v.c ?? []), ...(v.D ?? []), ...(v.d ?? [])]) checkStorable(spec);
  const boot = [...(v.C ?? []).map(() => "c"), ...(v.D ?? []).map(() => "d")];
  return {
    disks: [...(v.C ?? []), ...(v.c ?? [])],
    cdroms: [...(v.D ?? []), ...(v.d ?? [])],
    bootFrom: boot.length ? (v.D?.length ? "d" : "c") : undefined,
    templates: v.t ?? [],
    overrides,
    runOnly,
    accessCap,
    interactive: Boolean(args.count.i),
    noBoot: Boolean(args.count.n),
    libvirt: args.count.libvirt ? args.values.libvirt?.at(-1) ?? "" : undefined,
  };
}

/** `--libvirt[=URI]`: vmup only. A separate URI argument is taken when it names a QEMU or test driver. */
const LIBVIRT_OPTION: OptionDecl = {
  long: "libvirt",
  optionalValue: "URI",
  separateValue: /^(qemu|test)(\+[a-z0-9]+)?:\/\//,
  help: "run VM homes as transient libvirt domains (virsh create)",
  more: `at URI (default qemu:///session, qemu:///system for root),
e.g. --libvirt qemu+ssh://host/system; with -n: print the XML`,
};

const command: Command = {
  name: "vmup",
  summary: "start VMs, or boot any disk image, ISO, device, directory or URL",
  synopsis: ["[path ...]"],
  description: `Start each path: a VM home, or anything bootable (disk image, ISO, device,
directory, URL) which is then booted as is. No path: the current directory.`,
  options: [...UP_OPTIONS, LIBVIRT_OPTION],
  operands: "storage",
  notes: "A storage s may start with rw:, snap: or ro: to choose the access.",
  examples: [
    ["vmup ./debian.qcow2", "boot a disk image"],
    ["vmup -s ~/vms/win10", "start a VM, discarding its disk writes"],
    ["vmup -D install.iso ./vm1", "start ./vm1 from an installer ISO"],
    ["vmup --libvirt ~/vms/deb", "run it under libvirt (qemu:///session)"],
  ],
  async exec(args, io) {
    const { tools, overrides } = session(args, io, BUILTIN_MODULES);
    const opts = upOptions(args, overrides);
    if (opts.libvirt !== undefined && opts.interactive) {
      throw new UsageError("-i and --libvirt exclude each other");
    }
    if (!args.operands.length && !isVmHome(io.cwd)) {
      // Booting the current directory as a FAT disk is never what a bare `vmup` means.
      throw new UsageError("the current directory is not a VM home (no vm.settings); name a VM or an image");
    }
    const paths = args.operands.length ? args.operands : ["."];
    let failed = 0;
    for (const path of paths) {
      try {
        const r = await up(path, opts, tools);
        if (r.exitCode) failed++;
      } catch (e) {
        if (!(e instanceof VmError) || paths.length === 1) throw e;
        tools.log.error(`${path}: ${e.message}`);
        failed++;
      }
    }
    return failed ? 1 : 0;
  },
};

export default command;
