/**
 * The files a running VM uses: in its home for a kept VM, in a private
 * runtime directory for a bare boot.
 * @module
 */
import type { VmFiles } from "../modules/api.ts";
import type { Settings } from "../settings/settings.ts";
import { runningPid } from "./process.ts";

/** The files of a VM whose runtime files live in `dir`. */
export function vmFiles(dir: string, settings: Settings): VmFiles {
  return {
    dir,
    pid: `${dir}/${settings.get("cfg_file_pid")}`,
    monitor: `${dir}/${settings.get("cfg_file_monitor")}`,
    serial: `${dir}/${settings.get("cfg_file_serial")}`,
    serialLog: `${dir}/${settings.get("cfg_file_seriallog")}`,
  };
}

/** The directory that holds bare boots' runtime directories, created private. */
export function runtimeBase(): string {
  const xdg = Deno.env.get("XDG_RUNTIME_DIR");
  const base = xdg ? `${xdg}/vmtools` : `${Deno.env.get("TMPDIR") || "/tmp"}/vmtools-${Deno.uid()}`;
  try {
    Deno.mkdirSync(base, { mode: 0o700, recursive: true });
  } catch { /* checked below */ }
  const info = Deno.lstatSync(base);
  if (
    !info.isDirectory || info.uid !== Deno.uid() ||
    ((info.mode ?? 0) & 0o077) !== 0
  ) {
    throw new Error(
      `${base}: not a private directory of this user; remove it or set XDG_RUNTIME_DIR`,
    );
  }
  return base;
}

/** Makes a fresh private runtime directory for a bare boot of `name`. */
export function makeRuntimeDir(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 16) || "vm";
  return Deno.makeTempDirSync({ dir: runtimeBase(), prefix: `${safe}.` });
}

/** Removes runtime directories of bare boots whose QEMU is gone. */
export async function sweepRuntimeDirs(): Promise<void> {
  let base: string;
  try {
    base = runtimeBase();
  } catch {
    return;
  }
  for (const entry of Deno.readDirSync(base)) {
    if (!entry.isDirectory) continue;
    const dir = `${base}/${entry.name}`;
    const pidFile = `${dir}/qemu.pid`;
    try {
      const age = Date.now() - (Deno.statSync(dir).mtime?.getTime() ?? 0);
      if (
        age > 60_000 &&
        await runningPid(pidFile, `${dir}/monitor.sock`) === undefined
      ) Deno.removeSync(dir, { recursive: true });
    } catch { /* raced with another vmtools */ }
  }
}
