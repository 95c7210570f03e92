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
import { checkStorable, up, type UpOptions, type UpResult } from "../lib/boot/up.ts";
import { BUILTIN_MODULES } from "../modules/registry.ts";
import { checkShareArgument } from "../lib/storage/shares.ts";
import { formatJson, upReport } from "../lib/boot/report.ts";
import { compilePattern, parseTimeout } from "../lib/serial/expect.ts";

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
  {
    short: "S",
    value: "dir",
    repeats: true,
    complete: "dir",
    help: "share directory dir with the guest (9p; ro:dir read-only)",
  },
  { short: "b", help: "show the firmware boot menu" },
  { short: "i", help: "keep QEMU in the foreground, monitor on this terminal" },
  { short: "n", help: "do not boot: print the QEMU command on stdout" },
  { short: "r", help: "read-only mode for every disk and share" },
  { short: "s", help: "snapshot mode for every disk (shares read-only)" },
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
  // Scripted provisioning (vmcreate takes only --json of these).
  {
    long: "wait",
    value: "re",
    help: "return once the guest's serial console shows a line matching re",
    more: "(all it printed since it started counts, even for a running VM)",
  },
  {
    long: "timeout",
    value: "n",
    help: "with --wait: give up after n seconds (exit 1, VM left running)",
  },
  { long: "json", help: "print on stdout a JSON array describing each VM (see vmtools(7))" },
  ...COMMON_OPTIONS,
];

/** `--wait`, `--timeout` and `--json` (vmcreate has only the last). */
export function provisionOptions(args: ParsedArgs): { pattern?: RegExp; timeoutMs?: number; json: boolean } {
  const pattern = args.values.wait ? compilePattern(args.values.wait.at(-1)!, "--wait") : undefined;
  const timeoutMs = parseTimeout(args.values.timeout?.at(-1));
  if (timeoutMs !== undefined && !pattern) throw new UsageError("--timeout goes with --wait");
  return { pattern, timeoutMs, json: Boolean(args.count.json) };
}

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
  for (const dir of v.S ?? []) {
    checkStorable(dir);
    checkShareArgument(dir);
  }
  const boot = [...(v.C ?? []).map(() => "c"), ...(v.D ?? []).map(() => "d")];
  return {
    disks: [...(v.C ?? []), ...(v.c ?? [])],
    cdroms: [...(v.D ?? []), ...(v.d ?? [])],
    shares: v.S ?? [],
    bootFrom: boot.length ? (v.D?.length ? "d" : "c") : undefined,
    templates: v.t ?? [],
    overrides,
    runOnly,
    accessCap,
    interactive: Boolean(args.count.i),
    noBoot: Boolean(args.count.n),
    libvirt: args.count.libvirt ? args.values.libvirt?.at(-1) ?? "" : undefined,
    wait: Boolean(args.values.wait),
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

/** `vmup` as `main.ts` loads it: its declaration (options, usage, help) beside `exec`. */
const command: Command = {
  name: "vmup",
  summary: "start VMs, or boot any disk image, ISO, device, directory or URL",
  synopsis: ["[path ...]"],
  description: `Start each path: a VM home, or anything bootable (disk image, ISO, device,
directory, URL) which is then booted as is. No path: the current directory.`,
  options: [...UP_OPTIONS, LIBVIRT_OPTION],
  operands: "storage",
  notes: `A storage s may start with rw:, snap: or ro: to choose the access. A directory
shared with -S is mounted in a Linux guest by its tag (share1, share2, …):
mount -t 9p -o trans=virtio,version=9p2000.L share1 /mnt (-v prints it).`,
  examples: [
    ["vmup ./debian.qcow2", "boot a disk image"],
    ["vmup -s ~/vms/win10", "start a VM, discarding its disk writes"],
    ["vmup -D install.iso ./vm1", "start ./vm1 from an installer ISO"],
    ["vmup --libvirt ~/vms/deb", "run it under libvirt (qemu:///session)"],
    ["vmup -S ~/src -S ro:/data ./vm1", "share two folders, the second read-only"],
    ["vmup --wait 'login:' ./vm1", "start; return when the guest asks for a login"],
  ],
  async exec(args, io) {
    const provision = provisionOptions(args);
    const clash = ["n", "i"].find((flag) => args.count[flag]);
    if (clash && (provision.pattern || provision.json)) {
      throw new UsageError(`${provision.pattern ? "--wait" : "--json"} cannot go with -${clash}`);
    }
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
    const results: UpResult[] = [];
    for (const path of paths) {
      try {
        const r = await up(path, opts, tools);
        results.push(r);
        if (r.exitCode) failed++;
      } catch (e) {
        if (!(e instanceof VmError) || paths.length === 1) throw e;
        tools.log.error(`${path}: ${e.message}`);
        failed++;
      }
    }
    if (provision.pattern) {
      // Only --wait reads serial logs: its modules stay off the start path.
      const { waitForGuests } = await import("../lib/boot/wait.ts");
      failed += await waitForGuests(results, provision.pattern, provision.timeoutMs, tools.log);
    }
    if (provision.json) io.output.out(formatJson(results.map(upReport)));
    return failed ? 1 : 0;
  },
};

export default command;
