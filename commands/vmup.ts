/**
 * `vmup`: start VM homes or anything bootable.
 * @module
 */
import type { Command } from "../lib/cli/command.ts";
import { session } from "../lib/cli/command.ts";
import type { ParsedArgs } from "../lib/cli/getopt.ts";
import { UsageError, VmError } from "../lib/errors.ts";
import { isVmHome } from "../lib/vm/home.ts";
import { checkStorable, up, type UpOptions } from "../lib/vm/up.ts";
import { BUILTIN_MODULES } from "../modules/registry.ts";

/** Options shared by vmup and vmcreate. */
export const UP_OPTIONS = { flags: "bhinqrsvyz", valued: "CcDdot" };

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
  };
}

const command: Command = {
  name: "vmup",
  summary: "start VMs, or boot any disk image, ISO, device, directory or URL",
  options: UP_OPTIONS,
  help: `Usage: vmup [-bhinqrsvyz] [-C s] [-c s] [-D s] [-d s] [-o k=v] [-t tpl] [path ...]

Start each path: a VM home, or anything bootable (disk image, ISO, device,
directory, URL) which is then booted as is. No path: the current directory.

  -c s, -C s   attach storage s as a hard disk (-C: and boot from it)
  -d s, -D s   attach storage s as a CD-ROM (-D: and boot from it)
               s may start with rw:, snap: or ro: to choose the access
  -b           show the firmware boot menu
  -i           keep QEMU in the foreground, monitor on this terminal
  -n           prepare everything but do not boot
  -r, -s       read-only / snapshot mode for every disk
  -o k=v       set a setting for this run (repeatable)
  -t tpl       apply a template for this run
  -y           take the proposed answer to every question
  -z           compress images that get converted
  -q, -v       less / more messages (repeatable)
  -h           this help

Examples:
  vmup ./debian.qcow2            boot a disk image
  vmup -s ~/vms/win10            start a VM, discarding its disk writes
  vmup -D install.iso ./vm1      start ./vm1 from an installer ISO
See vmup(1).
`,
  async exec(args, io) {
    const { tools, overrides } = session(args, io, BUILTIN_MODULES);
    const opts = upOptions(args, overrides);
    if (!args.operands.length && !isVmHome(Deno.cwd())) {
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
