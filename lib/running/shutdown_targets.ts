/**
 * Choosing what `vmdown` stops: VM homes given by path, or running QEMU
 * processes (every one of the user's, or by pid), each with the timeout and
 * the leftover files its settings name.
 *
 * A home's VM is what its record and its monitor socket agree on (see
 * `record.ts`); the home is locked while it is looked at, so a vmup that is
 * starting it finishes first.
 * @module
 */
import { resolve } from "../path.ts";
import type { Roots } from "../roots.ts";
import { resolveSettings } from "../settings/resolve.ts";
import type { Settings } from "../settings/settings.ts";
import { vmFiles } from "../home/files.ts";
import { isVmHome } from "../home/home.ts";
import { acquireLock, type Lock } from "../home/lock.ts";
import { isListening } from "./process.ts";
import { isOwnSocket, runningFrom, type RunningHome } from "./record.ts";
import { listRunningVms, type RunningVm } from "./running.ts";
import { type ShutdownTarget, tidy } from "./shutdown.ts";
import { VmError } from "../errors.ts";
import { realPathOr } from "../fs.ts";

/** What target selection needs. */
export interface TargetContext {
  /** Where the settings of each VM's home are resolved from besides the home. */
  roots: Roots;
  /** `-o` values, applied on top of each VM's settings. */
  overrides: [string, string][];
  /** The tool settings (with the `-o` values): defaults for VMs without a home. */
  tool: Settings;
  /** Told about VMs under libvirt that cannot be asked about (see `listRunningVms`). */
  warn?: (msg: string) => void;
}

/** Targets found, and the selections that matched no running VM. */
export interface Selection {
  /** The running VMs the selection names, with what it takes to stop them. */
  targets: ShutdownTarget[];
  /** One message per path or pid that is not a running VM. */
  errors: string[];
}

function running(ctx: TargetContext): Promise<RunningVm[]> {
  return listRunningVms({
    prefix: ctx.tool.get("cfg_qemu_cmdprefix"),
    files: (dir) => vmFiles(dir, ctx.tool),
    warn: ctx.warn,
  });
}

function timeoutMs(settings: Settings): number {
  const s = Number(settings.get("vm_qemu_shutdown_timeout"));
  return Number.isFinite(s) && s > 0 ? s * 1000 : 0;
}

/** A target for the VM of a home (or runtime directory) with these settings. */
function dirTarget(
  dir: string,
  settings: Settings,
  found: RunningHome | undefined,
  bare: boolean,
): ShutdownTarget {
  const files = vmFiles(dir, settings);
  return {
    label: found?.record.name || settings.get("vm_name") || dir,
    pid: found?.record.pid,
    started: found?.record.started,
    monitor: !found?.record.libvirt && isOwnSocket(files.monitor) ? files.monitor : "",
    timeoutMs: timeoutMs(settings),
    files,
    token: found?.record.token,
    runtimeDir: bare ? dir : undefined,
    libvirt: found?.record.libvirt,
  };
}

/** A target for a running QEMU process found by `ps`. */
function processTarget(vm: RunningVm, ctx: TargetContext): ShutdownTarget {
  let settings = ctx.tool;
  if (vm.home && !vm.bare) {
    try {
      settings = resolveSettings({ roots: ctx.roots, home: vm.home, overrides: ctx.overrides }).settings;
    } catch { /* unreadable settings: the tool's defaults will do */ }
  }
  return {
    label: vm.name || `pid ${vm.pid}`,
    pid: vm.pid,
    started: vm.started,
    monitor: vm.monitor,
    timeoutMs: timeoutMs(settings),
    files: vm.home ? vmFiles(vm.home, settings) : undefined,
    token: vm.token,
    runtimeDir: vm.bare ? vm.home : undefined,
    libvirt: vm.libvirt,
  };
}

/**
 * The VMs of the homes at `paths` (a bare boot's runtime directory counts
 * as a home). A home that is not running has its stale runtime files
 * removed and is reported.
 */
export async function selectHomes(paths: readonly string[], ctx: TargetContext): Promise<Selection> {
  const settingsName = ctx.tool.get("cfg_file_vmsettings");
  const prefix = ctx.tool.get("cfg_qemu_cmdprefix");
  const out: Selection = { targets: [], errors: [] };
  let vms: RunningVm[] | undefined;
  for (const path of paths) {
    const abs = resolve(path);
    const shown = path === "." || path === "./" ? abs : path;
    if (!isVmHome(abs, settingsName)) {
      // A bare boot: its runtime directory as vmup printed it, or what it booted.
      vms ??= await running(ctx);
      const real = realPathOr(abs);
      const bare = vms.filter((v) =>
        v.bare && (realPathOr(v.home) === real || (v.source !== undefined && realPathOr(v.source) === real))
      );
      if (bare.length) out.targets.push(...bare.map((vm) => processTarget(vm, ctx)));
      else out.errors.push(`${shown}: not a VM home (no ${settingsName}), nor booted bare by vmup`);
      continue;
    }
    let settings: Settings;
    try {
      settings = resolveSettings({ roots: ctx.roots, home: abs, overrides: ctx.overrides }).settings;
    } catch (e) {
      out.errors.push((e as Error).message);
      continue;
    }
    const files = vmFiles(abs, settings);
    const lock = await lockIfWritable(
      `${abs}/${settings.get("cfg_file_lock")}`,
      settings.int("cfg_limit_waitlock"),
    );
    try {
      const found = await runningFrom(files, prefix);
      if (found) {
        out.targets.push(dirTarget(abs, settings, found, false));
      } else if (isOwnSocket(files.monitor) && await isListening(files.monitor)) {
        // Started by hand (or by an older vmtools) on this home's monitor
        // socket: it can be asked to stop, but no pid is known.
        out.targets.push(dirTarget(abs, settings, undefined, false));
      } else {
        await tidy(dirTarget(abs, settings, undefined, false));
        out.errors.push(`${shown}: not running`);
      }
    } finally {
      lock?.release();
    }
  }
  return { targets: dedupe(out.targets), errors: out.errors };
}

/** The home's lock, or nothing for a home this user cannot write (it cannot be changed then). */
async function lockIfWritable(path: string, waitSeconds: number): Promise<Lock | undefined> {
  try {
    return await acquireLock(path, waitSeconds);
  } catch (e) {
    if (e instanceof VmError && /cannot create lock/.test(e.message)) return undefined;
    throw e;
  }
}

/** The running VMs `select` accepts (all of the user's, or some pids). */
export async function selectProcesses(
  select: (vm: RunningVm) => boolean,
  ctx: TargetContext,
): Promise<ShutdownTarget[]> {
  return (await running(ctx)).filter(select).map((vm) => processTarget(vm, ctx));
}

function dedupe(targets: ShutdownTarget[]): ShutdownTarget[] {
  const seen = new Set<string>();
  return targets.filter((t) => {
    const key = t.pid !== undefined ? `p${t.pid}` : `m${t.monitor}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
