/**
 * Discovering running VMs: every QEMU process `ps` shows, with what its
 * command line tells (monitor socket, VM home, name, display) refined by
 * asking each QEMU over QMP, all monitors at once and briefly.
 * @module
 */
import { basename, dirname } from "../path.ts";
import { QmpClient } from "../qmp/client.ts";
import { displayUrl, queryDisplays, type SpiceInfo, type VncInfo } from "../qemu/display.ts";
import { listProcesses } from "./process.ts";
import { after } from "../timer.ts";

/** A QEMU process found running. */
export interface RunningVm {
  pid: number;
  uid: number;
  user: string;
  /** CPU use in percent. */
  cpu: number;
  /** Virtual memory in KiB. */
  mem: number;
  /** The command line as `ps` shows it (arguments joined by spaces). */
  args: string;
  /** The QMP socket from `-qmp unix:…`; `""` when there is none. */
  monitor: string;
  /**
   * The VM home when the monitor socket's directory holds the VM settings
   * file, a bare boot's runtime directory, or `""` when unknown.
   */
  home: string;
  /** Whether {@linkcode home} is a bare boot's runtime directory. */
  bare: boolean;
  /** The VM name (QMP `query-name`, else `-name`); `""` when unknown. */
  name: string;
  /**
   * `none`, `disabled`, `sdl`, `gtk` (or another window type),
   * `vnc://addr:port`, `spice://addr:port`, or `?` when it cannot be told.
   */
  display: string;
}

/** What {@linkcode listRunningVms} looks for and how. */
export interface ListRunningOptions {
  /** Program name prefix of QEMU (`cfg_qemu_cmdprefix`). */
  prefix: string;
  /** Name of the VM settings file (`cfg_file_vmsettings`); default `vm.settings`. */
  settingsName?: string;
  /**
   * Keeps only the VMs it accepts; runs before QEMU is asked anything, on
   * what `ps` and the command line tell (home and monitor are known).
   */
  select?: (vm: RunningVm) => boolean;
  /** Ask each QEMU over QMP for its name and display (default true). */
  query?: boolean;
  /** Limit for each QMP conversation in ms (default 1000). */
  timeoutMs?: number;
  /** Told when a monitor does not answer (the command line's view is kept). */
  onQueryError?: (vm: RunningVm, error: unknown) => void;
}

/** Lists the running QEMU processes, in pid order. */
export async function listRunningVms(
  opts: ListRunningOptions,
): Promise<RunningVm[]> {
  const settingsName = opts.settingsName ?? "vm.settings";
  const procs = await listProcesses(opts.prefix);
  const vms = procs.map((p): RunningVm => {
    const monitor = monitorOf(p.args);
    const { home, bare } = homeOf(monitor, settingsName);
    return {
      pid: p.pid,
      uid: p.uid,
      user: p.user,
      cpu: p.cpu,
      mem: p.vsz,
      args: p.args,
      monitor,
      home,
      bare,
      name: nameFromArgs(p.args),
      display: displayFromArgs(p.args),
    };
  }).filter((vm) => opts.select?.(vm) ?? true);
  vms.sort((a, b) => a.pid - b.pid);
  if (opts.query ?? true) {
    await Promise.all(
      vms.map((vm) =>
        vm.monitor &&
        refine(vm, opts.timeoutMs ?? 1000).catch((e) => opts.onQueryError?.(vm, e))
      ),
    );
  }
  return vms;
}

/** The socket of `-qmp unix:PATH[,opts]` in a `ps` command line (`,,` undone). */
export function monitorOf(args: string): string {
  const m = /(?:^| )-qmp unix:(.*)$/.exec(args);
  if (!m) return "";
  const rest = m[1];
  let path = "";
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === ",") {
      if (rest[i + 1] !== ",") return path;
      i++;
    }
    path += rest[i];
  }
  // Without options the path runs into the next argument: cut it there.
  const next = path.search(/ -[A-Za-z]/);
  return next >= 0 ? path.slice(0, next) : path;
}

/** Where a VM with monitor socket `monitor` keeps its files. */
function homeOf(
  monitor: string,
  settingsName: string,
): { home: string; bare: boolean } {
  if (!monitor.startsWith("/")) return { home: "", bare: false };
  const dir = dirname(monitor);
  try {
    if (Deno.statSync(`${dir}/${settingsName}`).isFile) {
      return { home: dir, bare: false };
    }
  } catch { /* no settings file: not a VM home */ }
  // Bare boots live in $XDG_RUNTIME_DIR/vmtools/NAME.XXXX (or
  // $TMPDIR/vmtools-UID/NAME.XXXX); see files.ts.
  if (/^vmtools(-\d+)?$/.test(basename(dirname(dir)))) {
    return { home: dir, bare: true };
  }
  return { home: "", bare: false };
}

/** The value following option `opt` in a `ps` command line. */
function optionValue(args: string, opt: string): string | undefined {
  const at = ` ${args} `.indexOf(` ${opt} `);
  if (at < 0) return undefined;
  const rest = args.slice(at + opt.length + 1);
  const next = rest.search(/ -[A-Za-z]/);
  return next >= 0 ? rest.slice(0, next) : rest;
}

/** The name given with `-name NAME` or `-name guest=NAME,…` in a `ps` command line. */
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

/** Asks QEMU for the exact name and display; throws when it does not answer. */
async function refine(vm: RunningVm, timeoutMs: number): Promise<void> {
  let qmp: QmpClient | undefined;
  const cancelTimer = after(timeoutMs, () => qmp?.close());
  try {
    qmp = await QmpClient.connect(vm.monitor, { timeoutMs });
    const ask = <T>(cmd: string) => qmp!.execute<T>(cmd, undefined, { timeoutMs }).catch(() => undefined);
    const [name, { vnc, spice }, dpy] = await Promise.all([
      ask<{ name?: string }>("query-name"),
      queryDisplays(qmp, timeoutMs),
      ask<{ type?: string }>("query-display-options"),
    ]);
    if (name?.name) vm.name = name.name;
    vm.display = displayFromQmp(vm, vnc, spice, dpy?.type);
  } finally {
    cancelTimer?.();
    qmp?.close();
  }
}

function displayFromQmp(
  vm: RunningVm,
  vnc: VncInfo | undefined,
  spice: SpiceInfo | undefined,
  type: string | undefined,
): string {
  const has = (opt: string) => optionValue(vm.args, opt) !== undefined;
  const url = displayUrl(vnc, spice);
  if (url) return url;
  if ((has("-vnc") && vnc) || (has("-spice") && spice)) return "disabled";
  if (has("-vnc") || has("-spice")) return vm.display;
  if (type && type !== "default") return type;
  return vm.display;
}
