/**
 * Choosing what `vmdown` stops: VM homes given by path, or running QEMU
 * processes (every one of the user's, or by pid), each with the timeout and
 * the leftover files its settings name.
 * @module
 */
import { resolve } from "../path.ts";
import type { Roots } from "../roots.ts";
import { resolveSettings } from "../settings/resolve.ts";
import type { Settings } from "../settings/settings.ts";
import { vmFiles } from "./files.ts";
import { isVmHome } from "./home.ts";
import { isListening, readPidFile } from "./process.ts";
import { listRunningVms, type RunningVm } from "./running.ts";
import { type ShutdownTarget, tidy } from "./shutdown.ts";

/** What target selection needs. */
export interface TargetContext {
  roots: Roots;
  /** `-o` values, applied on top of each VM's settings. */
  overrides: [string, string][];
  /** The tool settings (with the `-o` values): defaults for VMs without a home. */
  tool: Settings;
}

/** Targets found, and the selections that matched no running VM. */
export interface Selection {
  targets: ShutdownTarget[];
  /** One message per path or pid that is not a running VM. */
  errors: string[];
}

function realPath(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return resolve(path);
  }
}

function running(ctx: TargetContext): Promise<RunningVm[]> {
  return listRunningVms({
    prefix: ctx.tool.get("cfg_qemu_cmdprefix"),
    settingsName: ctx.tool.get("cfg_file_vmsettings"),
    query: false,
  });
}

function timeoutMs(settings: Settings): number {
  const s = Number(settings.get("vm_qemu_shutdown_timeout"));
  return Number.isFinite(s) && s > 0 ? s * 1000 : 0;
}

/** A target for a VM home from its settings. */
function homeTarget(
  home: string,
  settings: Settings,
  vm: RunningVm | undefined,
  pid: number | undefined,
): ShutdownTarget {
  const files = vmFiles(home, settings);
  return {
    label: settings.get("vm_name") || vm?.name || `pid ${pid}`,
    pid: vm?.pid ?? pid,
    monitor: vm?.monitor || files.monitor,
    timeoutMs: timeoutMs(settings),
    leftovers: [files.pid, files.monitor, files.serial],
  };
}

/** A target for a running QEMU process found by `ps`. */
function processTarget(vm: RunningVm, ctx: TargetContext): ShutdownTarget {
  if (vm.home && !vm.bare) {
    try {
      const { settings } = resolveSettings({
        roots: ctx.roots,
        home: vm.home,
        overrides: ctx.overrides,
      });
      return homeTarget(vm.home, settings, vm, vm.pid);
    } catch { /* unreadable settings: treat it as a VM without a home */ }
  }
  return {
    label: vm.name || `pid ${vm.pid}`,
    pid: vm.pid,
    monitor: vm.monitor,
    timeoutMs: timeoutMs(ctx.tool),
    leftovers: [],
    runtimeDir: vm.bare ? vm.home : undefined,
  };
}

/**
 * The VMs of the homes at `paths` (a bare boot's runtime directory counts
 * as a home). A home that is not running has its stale pid file and
 * sockets removed and is reported.
 */
export async function selectHomes(
  paths: readonly string[],
  ctx: TargetContext,
): Promise<Selection> {
  const settingsName = ctx.tool.get("cfg_file_vmsettings");
  const vms = await running(ctx);
  const out: Selection = { targets: [], errors: [] };
  for (const path of paths) {
    const abs = resolve(path);
    const real = realPath(abs);
    const shown = path === "." || path === "./" ? abs : path;
    const vm = vms.find((v) => v.home && realPath(v.home) === real);
    if (!isVmHome(abs, settingsName)) {
      if (vm?.bare) out.targets.push(processTarget(vm, ctx));
      else out.errors.push(`${shown}: not a VM home (no ${settingsName})`);
      continue;
    }
    let settings: Settings;
    try {
      settings = resolveSettings({
        roots: ctx.roots,
        home: abs,
        overrides: ctx.overrides,
      }).settings;
    } catch (e) {
      out.errors.push((e as Error).message);
      continue;
    }
    const files = vmFiles(abs, settings);
    if (vm) {
      out.targets.push(homeTarget(abs, settings, vm, vm.pid));
    } else if (await isListening(files.monitor)) {
      // ps hides its home (it shows some characters as `?`), or its QEMU is
      // not among the processes ps shows us: the pid file may tell.
      const pid = readPidFile(files.pid);
      const known = vms.find((v) => v.pid === pid);
      out.targets.push(
        homeTarget(
          abs,
          settings,
          known && { ...known, monitor: files.monitor },
          undefined,
        ),
      );
    } else {
      const target = homeTarget(abs, settings, undefined, undefined);
      await tidy(target);
      out.errors.push(`${shown}: not running`);
    }
  }
  return { targets: dedupe(out.targets), errors: out.errors };
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
