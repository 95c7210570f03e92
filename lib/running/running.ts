/**
 * Discovering running VMs: every QEMU process `ps` shows (one run), matched
 * with the records vmup linked from the user's runtime directory by pid and
 * start time. A matched process is a VM vmtools started: its home, monitor,
 * name and display come from its record. Any other QEMU (started by hand, or
 * another user's) is listed with what `ps` tells: nothing taken from its
 * command line identifies it; only its `-name` is shown, as a hint.
 * @module
 */
import type { VmFiles } from "../modules/api.ts";
import { listProcesses, sameStart } from "./process.ts";
import { indexedDirs, readRecord, unlinkIndexed } from "./record.ts";
import { type Forward, forwardsFromArgs } from "../qemu/forwards.ts";

/** A QEMU process found running. */
export interface RunningVm {
  pid: number;
  uid: number;
  user: string;
  /** CPU use in percent. */
  cpu: number;
  /** Virtual memory in KiB. */
  mem: number;
  /** When it started, in ms since the epoch (to the second). */
  started: number;
  /** The command line as `ps` shows it (arguments joined by spaces). */
  args: string;
  /** The QMP socket; `""` for a QEMU vmtools did not start. */
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
}

/** What {@linkcode listRunningVms} looks for. */
export interface ListRunningOptions {
  /** Program name prefix of QEMU (`cfg_qemu_cmdprefix`). */
  prefix: string;
  /** The runtime files of a VM directory (file names from the tool settings). */
  files: (dir: string) => VmFiles;
  /** Keeps only the VMs it accepts. */
  select?: (vm: RunningVm) => boolean;
}

/** Lists the running QEMU processes, in pid order. */
export async function listRunningVms(opts: ListRunningOptions): Promise<RunningVm[]> {
  const procs = await listProcesses(opts.prefix);
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const recorded = new Map<
    number,
    Pick<RunningVm, "home" | "bare" | "monitor" | "name" | "display" | "token" | "source" | "forwards">
  >();
  for (const [token, dir] of indexedDirs()) {
    const files = opts.files(dir);
    const rec = readRecord(files);
    const proc = rec && rec.token === token ? byPid.get(rec.pid) : undefined;
    if (!rec || !proc || !sameStart(proc.started, rec.started) || proc.uid !== Deno.uid()) {
      unlinkIndexed(token); // that VM is gone
      continue;
    }
    recorded.set(rec.pid, {
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
  const vms = procs.map((p): RunningVm => ({
    pid: p.pid,
    uid: p.uid,
    user: p.user,
    cpu: p.cpu,
    mem: p.vsz,
    started: p.started,
    args: p.args,
    ...(recorded.get(p.pid) ??
      {
        home: "",
        bare: false,
        monitor: "",
        name: nameFromArgs(p.args),
        display: displayFromArgs(p.args),
        forwards: forwardsFromArgs(p.args),
      }),
  })).filter((vm) => opts.select?.(vm) ?? true);
  return vms.sort((a, b) => a.pid - b.pid);
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
