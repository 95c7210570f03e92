/**
 * `vmcp`: copy VMs (many sources into a directory, or one to a new name).
 * Its options, and how both argument shapes become copies, are shared with
 * `vmfork`, which differs only in its default mode and argument shape.
 * @module
 */
import { type Command, session } from "../lib/cli/command.ts";
import type { ParsedArgs } from "../lib/cli/getopt.ts";
import { COMMON_OPTIONS, type OptionDecl } from "../lib/cli/spec.ts";
import { UsageError, VmError } from "../lib/errors.ts";
import type { CloneMode } from "../lib/modules/api.ts";
import { resolve } from "../lib/path.ts";
import { cloneJobs } from "../lib/tree/clone.ts";
import { destination } from "../lib/tree/scan.ts";
import { planJobs } from "../lib/tree/plan.ts";
import { DEFAULTS } from "../lib/settings/defaults.ts";
import { BUILTIN_MODULES } from "../modules/registry.ts";

const CLONE_MODULES = DEFAULTS.cfg_modules_clone.split(" ");

/** The options vmcp and vmfork share. */
export const COPY_OPTIONS: readonly OptionDecl[] = [
  { short: "c", help: "copy: the same parent as the source (vmcp's default)" },
  { short: "f", help: "fork: a child of the source on overlays (vmfork's default)" },
  { short: "a", help: "autonomous: no parent, the disks flattened" },
  { short: "k", help: "keep unique properties (MAC addresses)" },
  { short: "M", value: "mod", repeats: true, complete: CLONE_MODULES, help: "skip a clone module" },
  { short: "m", value: "mod", repeats: true, complete: "none", help: "add a clone module" },
  { short: "n", help: "do not touch the source (read-only media; with -a)" },
  { short: "R", help: "also copy the source's children (below the new VM)" },
  { short: "r", help: "copy every VM below a source directory, keeping its layout" },
  { short: "s", help: "no copies: the new VMs use the source's disks in snapshot mode" },
  { short: "z", help: "compress the copied images" },
  { short: "o", value: "k=v", repeats: true, complete: "setting", help: "set a setting for this run" },
  { short: "y", help: "take the proposed answer to every question" },
  ...COMMON_OPTIONS,
];

/** Which mode the flags ask for (`fallback` when none). */
function modeOf(args: ParsedArgs, fallback: CloneMode): CloneMode {
  const asked = (["c", "f", "a"] as const).filter((m) => args.count[m]);
  if (asked.length > 1) throw new UsageError(`-${asked.join(", -")} exclude each other`);
  return asked[0] === "c" ? "copy" : asked[0] === "f" ? "fork" : asked[0] === "a" ? "autonomous" : fallback;
}

/**
 * Runs vmcp or vmfork: `pairs` turns the operands into (source, dest)
 * pairs; each pair is one change (its VM, and with -R its children).
 */
export async function copyExec(
  args: ParsedArgs,
  io: Parameters<Command["exec"]>[1],
  fallback: CloneMode,
  pairs: (operands: string[]) => [string, string][],
): Promise<number> {
  const mode = modeOf(args, fallback);
  if (args.count.n && mode !== "autonomous") {
    throw new UsageError("-n applies to an autonomous copy (-a) only");
  }
  if (args.count.s && mode === "autonomous") throw new UsageError("-s and -a exclude each other");
  const { tool, tools, overrides } = session(args, io, BUILTIN_MODULES);
  const opts = {
    snapshot: Boolean(args.count.s),
    keepUnique: Boolean(args.count.k),
    compress: Boolean(args.count.z) || tool.bool("vm_qemu_compress"),
    untouched: Boolean(args.count.n),
    skip: args.values.M ?? [],
    add: args.values.m ?? [],
    overrides,
  };
  const operands = args.operands.map((o) => resolve(o, io.cwd));
  const plans = pairs(operands).map(([source, dest]) => ({
    source,
    dest,
    jobs: planJobs(source, dest, {
      mode,
      withChildren: Boolean(args.count.R),
      recursive: Boolean(args.count.r),
      limit: tool.int("cfg_limit_nesting"),
    }, tool),
  }));
  let failed = 0;
  for (const { source, dest, jobs } of plans) {
    try {
      await cloneJobs(jobs, opts, tool, tools, `${io.prog} ${source} ${dest}`);
    } catch (e) {
      if (!(e instanceof VmError) || plans.length === 1) throw e;
      tools.log.error(`${source}: ${e.message}`);
      failed++;
    }
  }
  return failed ? 1 : 0;
}

/** `vmcp` as `main.ts` loads it: its declaration (options, usage, help) beside `exec`. */
const command: Command = {
  name: "vmcp",
  summary: "copy VMs",
  synopsis: ["source dest", "source ... directory"],
  description: `Copy each source VM: to dest (a new name), or into an existing directory.
A copy has the source's parent and copies of its disks (-c, the default); a
fork (-f) is a child of the source on overlays of its disks; an autonomous
copy (-a) has no parent and flattened disks. No source may be running.`,
  options: COPY_OPTIONS,
  operands: "vmhome",
  notes: `Links are kept true: the new VM's parent lists it as a child, and
paths are relative where one VM lies below the other, so that a whole tree
moves with mv. Interrupted or failed, a copy leaves nothing behind.`,
  examples: [
    ["vmcp ~/vms/deb ~/vms/deb2", "a copy beside the original"],
    ["vmcp -a ~/vms/base/web ~/backup/web", "a standalone copy of a fork"],
    ["vmcp -R ~/vms/base ~/vms/base2", "a VM and its children"],
    ["vmcp a b c ~/archive/", "several VMs into a directory"],
  ],
  exec(args, io) {
    return copyExec(args, io, "copy", (operands) => {
      if (operands.length < 2) throw new UsageError("need a source and a destination");
      const dest = operands[operands.length - 1];
      const sources = operands.slice(0, -1);
      if (sources.length > 1) {
        let isDir = false;
        try {
          isDir = Deno.statSync(dest).isDirectory;
        } catch { /* checked below */ }
        if (!isDir) {
          throw new UsageError(`${dest}: with several sources the destination must be an existing directory`);
        }
      }
      return sources.map((s) => [s, destination(s, dest)]);
    });
  },
};

export default command;
