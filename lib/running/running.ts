/**
 * Discovering running VMs: every QEMU process `ps` shows (one run), matched
 * with the records vmup linked from the user's runtime directory by pid and
 * start time. A matched process is a VM vmtools started: its home, monitor,
 * name and display come from its record. Any other QEMU (started by hand, or
 * another user's) is listed with what `ps` tells: nothing taken from its
 * command line identifies it; only its `-name` is shown, as a hint.
 *
 * A VM vmup started under libvirt is listed when libvirt runs its domain
 * with its record's token (`libvirt/state.ts`); its QEMU, when it runs on
 * this machine, is the process its record names (confirmed by start time).
 * @module
 */
import type { VmFiles } from "../modules/api.ts";
import type { LibvirtRef } from "../libvirt/state.ts";
import { type Forward, forwardsFromArgs } from "../qemu/forwards.ts";
import { userName } from "../users.ts";
import { listProcesses, type ProcInfo, sameStart } from "./process.ts";
import { indexedDirs, readRecord, type RunRecord, unlinkIndexed } from "./record.ts";

/** A QEMU process found running, or a VM vmup started under libvirt. */
export interface RunningVm {
  /** QEMU's process id; unknown for a VM under libvirt on another host. */
  pid?: number;
  /** Its owner's uid; for a VM under libvirt, the user whose vmup started it (the one asking). */
  uid: number;
  /** Its owner's name, as `ps` prints it (for a VM under libvirt, from /etc/passwd). */
  user: string;
  /** CPU use in percent (unknown where the process is). */
  cpu?: number;
  /** Virtual memory in KiB (unknown where the process is). */
  mem?: number;
  /** When it started, in ms since the epoch (to the second). */
  started: number;
  /** The command line as `ps` shows it (arguments joined by spaces); `""` where the process is unknown. */
  args: string;
  /** The QMP socket; `""` for a QEMU vmtools did not start, and for one under libvirt. */
  monitor: string;
  /** The VM home or a bare boot's runtime directory; `""` for a QEMU vmtools did not start. */
  home: string;
  /** Whether {@linkcode home} is a bare boot's runtime directory. */
  bare: boolean;
  /** The VM name; for a QEMU vmtools did not start, its `-name` as far as `ps` shows it. */
  name: string;
  /**
   * `none`, `sdl`, `gtk` (or another window type), `vnc://addr:port`,
   * `spice://addr:port`, or `?` when it cannot be told.
   */
  display: string;
  /** The record's token, for VMs vmtools started. */
  token?: string;
  /** For a bare boot, what was booted (absolute path or URL). */
  source?: string;
  /** Port forwards: as QEMU reported them to vmup, or for another QEMU as its command line tells (a hint). */
  forwards: Forward[];
  /** What runs it: vmtools' own QEMU (or a QEMU vmtools did not start), or libvirt. */
  engine: "qemu" | "libvirt";
  /** Where and as which domain libvirt runs it. */
  libvirt?: LibvirtRef;
}

/** What {@linkcode listRunningVms} looks for. */
export interface ListRunningOptions {
  /** Program name prefix of QEMU (`cfg_qemu_cmdprefix`). */
  prefix: string;
  /** The runtime files of a VM directory (file names from the tool settings). */
  files: (dir: string) => VmFiles;
  /** Keeps only the VMs it accepts. */
  select?: (vm: RunningVm) => boolean;
  /** Told about VMs under libvirt that cannot be asked about (an unreachable URI): they are left out. */
  warn?: (msg: string) => void;
}

/**
 * Lists the running QEMU processes and the VMs vmup started under
 * libvirt, in pid order (those whose process is unknown last).
 */
export async function listRunningVms(opts: ListRunningOptions): Promise<RunningVm[]> {
  const procs = await listProcesses(opts.prefix);
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const recorded = new Map<
    number,
    Pick<RunningVm, "home" | "bare" | "monitor" | "name" | "display" | "token" | "source" | "forwards">
  >();
  const underLibvirt: { dir: string; record: RunRecord }[] = [];
  for (const [token, dir] of indexedDirs()) {
    const files = opts.files(dir);
    const rec = readRecord(files);
    if (rec && rec.token === token && rec.libvirt) {
      underLibvirt.push({ dir, record: rec });
      continue;
    }
    const proc = rec && rec.token === token && rec.pid !== undefined ? byPid.get(rec.pid) : undefined;
    if (!rec || !proc || !sameStart(proc.started, rec.started) || proc.uid !== Deno.uid()) {
      unlinkIndexed(token); // that VM is gone
      continue;
    }
    recorded.set(proc.pid, {
      home: dir,
      bare: rec.bare,
      monitor: files.monitor,
      name: rec.name,
      display: rec.display,
      token,
      source: rec.source,
      forwards: rec.forwards ?? [],
    });
  }
  const libvirtVms = underLibvirt.length ? await confirmLibvirt(underLibvirt, byPid, opts.warn) : [];
  // A QEMU libvirt runs for one of them is listed once, as that VM.
  const claimed = new Set(libvirtVms.map((vm) => vm.pid));
  const vms = procs.filter((p) => !claimed.has(p.pid)).map((p): RunningVm => ({
    pid: p.pid,
    uid: p.uid,
    user: p.user,
    cpu: p.cpu,
    mem: p.vsz,
    started: p.started,
    args: p.args,
    engine: "qemu",
    ...(recorded.get(p.pid) ??
      {
        home: "",
        bare: false,
        monitor: "",
        name: nameFromArgs(p.args),
        display: displayFromArgs(p.args),
        forwards: forwardsFromArgs(p.args),
      }),
  }));
  return [...vms, ...libvirtVms].filter((vm) => opts.select?.(vm) ?? true)
    .sort((a, b) => byPidThenHome(a, b));
}

/** Pid order, VMs without a known process last (by home). */
export function byPidThenHome(a: RunningVm, b: RunningVm): number {
  if (a.pid !== b.pid) return a.pid === undefined ? 1 : b.pid === undefined ? -1 : a.pid - b.pid;
  return a.home < b.home ? -1 : a.home > b.home ? 1 : 0;
}

/**
 * The recorded VMs under libvirt that libvirt still runs with their
 * tokens, with what `ps` tells of their QEMU when it runs here. Gone ones
 * are unlinked; ones whose libvirt cannot be asked are reported and left.
 */
async function confirmLibvirt(
  entries: { dir: string; record: RunRecord }[],
  byPid: ReadonlyMap<number, ProcInfo>,
  warn?: (msg: string) => void,
): Promise<RunningVm[]> {
  const { activeDomains, libvirtAnswer } = await import("../libvirt/state.ts");
  const active = new Map<string, Promise<Set<string>>>();
  const out: RunningVm[] = [];
  const uid = Deno.uid() ?? -1;
  const user = userName(uid) ?? String(uid);
  await Promise.all(entries.map(async ({ dir, record }) => {
    const ref = record.libvirt!;
    let answer;
    try {
      if (!active.has(ref.uri)) active.set(ref.uri, activeDomains(ref.uri));
      answer = await libvirtAnswer(ref, record.token, await active.get(ref.uri));
    } catch (e) {
      warn?.(`${record.name} (${dir}): ${(e as Error).message}`);
      return;
    }
    if (answer !== "match") {
      unlinkIndexed(record.token);
      return;
    }
    const seen = record.pid === undefined ? undefined : byPid.get(record.pid);
    const proc = seen && sameStart(seen.started, record.started) ? seen : undefined;
    out.push({
      pid: proc?.pid,
      uid,
      user,
      cpu: proc?.cpu,
      mem: proc?.vsz,
      started: proc?.started ?? record.started,
      args: proc?.args ?? "",
      monitor: "",
      home: dir,
      bare: record.bare,
      name: record.name,
      display: record.display,
      token: record.token,
      source: record.source,
      forwards: record.forwards ?? [],
      engine: "libvirt",
      libvirt: ref,
    });
  }));
  return out;
}

/** The value following option `opt` in a `ps` command line. */
function optionValue(args: string, opt: string): string | undefined {
  const at = ` ${args} `.indexOf(` ${opt} `);
  if (at < 0) return undefined;
  const rest = args.slice(at + opt.length + 1);
  const next = rest.search(/ -[A-Za-z]/);
  return next >= 0 ? rest.slice(0, next) : rest;
}

/** The name given with `-name NAME` or `-name guest=NAME,…` in a `ps` command line (a hint only). */
export function nameFromArgs(args: string): string {
  const value = optionValue(args, "-name");
  if (value === undefined) return "";
  const guest = /(?:^|,)guest=((?:[^,]|,,)*)/.exec(value);
  const raw = guest ? guest[1] : /^((?:[^,]|,,)*)/.exec(value)![1];
  return raw.replaceAll(",,", ",");
}

/** The display as far as a `ps` command line tells (see {@linkcode RunningVm.display}). */
export function displayFromArgs(args: string): string {
  const vnc = optionValue(args, "-vnc");
  if (vnc !== undefined) {
    if (vnc === "none") return "disabled";
    const m = /^([^,]*):(\d+)(?:,|$)/.exec(vnc);
    if (m && !/,to=/.test(vnc) && !m[1].startsWith("unix")) {
      return `vnc://${m[1] || "0.0.0.0"}:${5900 + Number(m[2])}`;
    }
    return "?";
  }
  const spice = optionValue(args, "-spice");
  if (spice !== undefined) {
    const port = /(?:^|,)port=(\d+)/.exec(spice)?.[1];
    const addr = /(?:^|,)addr=([^,]+)/.exec(spice)?.[1] ?? "0.0.0.0";
    return port ? `spice://${addr}:${port}` : "?";
  }
  if (/(?:^| )-nographic(?: |$)/.test(args)) return "none";
  const display = optionValue(args, "-display");
  return display ? display.split(",")[0] : "?";
}
