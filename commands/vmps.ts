/**
 * `vmps`: list running VMs.
 * @module
 */
import type { Command } from "../lib/cli/command.ts";
import type { ParsedArgs } from "../lib/cli/getopt.ts";
import { COMMON_OPTIONS } from "../lib/cli/spec.ts";
import { UsageError } from "../lib/errors.ts";
import { configRoots } from "../lib/roots.ts";
import { resolveSettings } from "../lib/settings/resolve.ts";
import { vmFiles } from "../lib/home/files.ts";
import { byPidThenHome, listRunningVms, type RunningVm } from "../lib/running/running.ts";
import { formatForward } from "../lib/qemu/forwards.ts";
import { realPathOr } from "../lib/fs.ts";

interface Field {
  title: string;
  /** Right-aligned (numbers). */
  right?: boolean;
  text(vm: RunningVm): string;
  key(vm: RunningVm): string | number;
}

const unknown = (s: string) => s || "?";

/** Port forwards in QEMU's rule syntax, comma-separated (one word per column); `-` for none. */
const forwards = (v: RunningVm) => v.forwards.map(formatForward).join(",") || "-";

/** The columns, by letter. */
const FIELDS: Record<string, Field> = {
  c: {
    title: "%CPU",
    right: true,
    text: (v) => v.cpu?.toFixed(1) ?? "-",
    key: (v) => v.cpu ?? -1,
  },
  d: { title: "DISPLAY", text: (v) => v.display, key: (v) => v.display },
  e: { title: "COMMAND", text: (v) => v.args || "-", key: (v) => v.args },
  f: { title: "FORWARDS", text: (v) => forwards(v), key: (v) => forwards(v) },
  g: { title: "ENGINE", text: engine, key: engine },
  h: { title: "HOME", text: (v) => unknown(v.home), key: (v) => v.home },
  m: {
    title: "MEM",
    right: true,
    text: (v) => v.mem === undefined ? "-" : String(v.mem),
    key: (v) => v.mem ?? -1,
  },
  n: { title: "NAME", text: (v) => unknown(v.name), key: (v) => v.name },
  p: {
    title: "PID",
    right: true,
    text: (v) => v.pid === undefined ? "-" : String(v.pid),
    key: (v) => v.pid ?? Infinity,
  },
  q: {
    title: "MONITOR",
    text: (v) => unknown(v.monitor),
    key: (v) => v.monitor,
  },
  u: { title: "USER", text: (v) => v.user, key: (v) => v.user },
};

/** `qemu`, or `libvirt:` and its URI (one word, as every column). */
function engine(vm: RunningVm): string {
  return vm.libvirt ? `libvirt:${vm.libvirt.uri}` : vm.engine;
}

function letters(option: string, value: string): string[] {
  const out = [...value];
  const bad = out.find((l) => !(l.toLowerCase() in FIELDS));
  if (bad !== undefined || out.length === 0) {
    throw new UsageError(
      `-${option} '${value}': fields are letters among ${Object.keys(FIELDS).join("")}`,
    );
  }
  return out;
}

/** Which VMs to show, from -a, -d, -p, -u and the operands that follow. */
function selector(args: ParsedArgs): (vm: RunningVm) => boolean {
  const given = ["a", "d", "p", "u"].filter((k) => args.count[k] || args.values[k]);
  if (given.length > 1) {
    throw new UsageError("-a, -d, -p and -u cannot be combined");
  }
  const kind = given[0];
  if (args.operands.length && (kind === undefined || kind === "a")) {
    throw new UsageError(`unexpected argument '${args.operands[0]}'`);
  }
  const values = [...(args.values[kind] ?? []), ...args.operands];
  switch (kind) {
    case "a":
      return () => true;
    case "d": {
      const homes = new Set(values.map(realPathOr));
      return (vm) => vm.home !== "" && homes.has(realPathOr(vm.home));
    }
    case "p": {
      const pids = new Set(values.map((p) => {
        if (!/^\d+$/.test(p)) {
          throw new UsageError(`-p '${p}': not a process id`);
        }
        return Number(p);
      }));
      return (vm) => vm.pid !== undefined && pids.has(vm.pid);
    }
    case "u": {
      const users = new Set(values);
      return (vm) => users.has(vm.user) || users.has(String(vm.uid));
    }
    default: {
      const uid = Deno.uid();
      return (vm) => vm.uid === uid;
    }
  }
}

/** Sorts by the keys, first one first; upper case means descending. */
function sortVms(vms: RunningVm[], keys: string[]): void {
  vms.sort((a, b) => {
    for (const k of keys) {
      const f = FIELDS[k.toLowerCase()];
      const x = f.key(a), y = f.key(b);
      const c = x < y ? -1 : x > y ? 1 : 0;
      if (c) return k === k.toLowerCase() ? c : -c;
    }
    return byPidThenHome(a, b);
  });
}

/** Aligned columns; the last one is not padded. */
function table(vms: RunningVm[], fields: string[], header: boolean): string {
  const rows = vms.map((vm) => fields.map((f) => FIELDS[f].text(vm)));
  if (header) rows.unshift(fields.map((f) => FIELDS[f].title));
  const widths = fields.map((_, i) => Math.max(0, ...rows.map((r) => r[i].length)));
  return rows.map((r) =>
    r.map((cell, i) => {
      if (FIELDS[fields[i]].right) return cell.padStart(widths[i]);
      return i === r.length - 1 ? cell : cell.padEnd(widths[i]);
    }).join(" ") + "\n"
  ).join("");
}

function json(vms: RunningVm[]): string {
  const orNull = (s: string) => s === "" ? null : s;
  return JSON.stringify(
    vms.map((v) => ({
      pid: v.pid ?? null,
      name: orNull(v.name),
      home: orNull(v.home),
      display: v.display,
      monitor: orNull(v.monitor),
      user: v.user,
      cpu: v.cpu ?? null,
      mem: v.mem ?? null,
      cmdline: orNull(v.args),
      forwards: v.forwards,
      engine: v.engine,
      uri: v.libvirt?.uri ?? null,
    })),
    null,
    2,
  ) + "\n";
}

/** `vmps` as `main.ts` loads it: its declaration (options, usage, help) beside `exec`. */
const command: Command = {
  name: "vmps",
  summary: "list running VMs",
  synopsis: ["[-a | -d home ... | -p pid ... | -u user ...]"],
  description: "List running QEMU processes, by default those of the current user.",
  options: [
    { short: "a", help: "every user's VMs" },
    {
      short: "d",
      value: "home",
      repeats: true,
      complete: "vmhome",
      operands: "vmhome",
      help: "the VMs whose home is one of these directories",
    },
    {
      short: "p",
      value: "pid",
      repeats: true,
      complete: "pid",
      operands: "pid",
      help: "the QEMU processes with these ids",
    },
    {
      short: "u",
      value: "user",
      repeats: true,
      complete: "user",
      operands: "user",
      help: "the VMs of these users (names or uids)",
    },
    {
      short: "o",
      value: "fields",
      help: "columns, as letters (default pnd)",
      more: `  c %CPU   d display   e command line   f port forwards
  g engine (qemu, or libvirt:URI)   h home
  m virtual memory (KiB)   n name   p pid
  q monitor socket   u user`,
    },
    {
      short: "s",
      value: "keys",
      repeats: true,
      help: "sort by these letters, first one first; upper case: descending",
    },
    { short: "r", help: "no header line" },
    { short: "n", help: "print nothing; exit 0 if any VM matched, else 1" },
    {
      long: "json",
      help: "a JSON array of objects instead of the table",
      more: `(pid name home display monitor user cpu mem cmdline forwards
engine uri)`,
    },
    ...COMMON_OPTIONS,
  ],
  operands: "none",
  examples: [
    ["vmps", "your VMs: pid, name, display"],
    ["vmps -a -o upcmn -s C", "every VM, busiest first"],
    ["vmps -nd ~/vm/deb && echo up", "is this VM running?"],
    ["vmps -r -o p -d ~/vm/deb", "its pid, for a script"],
  ],
  async exec(args, io) {
    const fields = letters("o", args.values.o?.at(-1) ?? "pnd").map((l) => l.toLowerCase());
    const keys = args.values.s ? letters("s", args.values.s.join("")) : [];
    const tool = resolveSettings({ roots: configRoots(io.env) }).settings;
    const select = selector(args);
    const vms = await listRunningVms({
      prefix: tool.get("cfg_qemu_cmdprefix"),
      files: (dir) => vmFiles(dir, tool),
      select,
      warn: (m) => io.output.err(`${io.prog}: warning: ${m}\n`),
    });
    if (args.count.n) return vms.length ? 0 : 1;
    sortVms(vms, keys);
    io.output.out(
      args.count.json ? json(vms) : table(vms, fields, !args.count.r),
    );
    return 0;
  },
};

export default command;
