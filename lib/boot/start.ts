/**
 * Starting QEMU for vmup and reading what it says: retries where only the
 * display stands in the way, the display address it picked, an image lock
 * held by another VM turned into a message naming that VM, and the run's
 * files cleared between attempts.
 * @module
 */
import { VmError } from "../errors.ts";
import type { HostInfo, VmFiles } from "../modules/api.ts";
import type { ModuleLoader } from "../modules/loader.ts";
import type { QmpClient } from "../qmp/client.ts";
import { buildCommand, type BuiltCommand } from "../qemu/build.ts";
import { displayUrl, queryDisplays } from "../qemu/display.ts";
import { launchDetached, type Launched } from "../qemu/launch.ts";
import type { Settings } from "../settings/settings.ts";
import { inspectStorage } from "../storage/inspect.ts";
import type { Toolbox } from "../toolbox.ts";
import { vmFiles } from "../home/files.ts";
import { processStarts, sameStart } from "../running/process.ts";
import { recordedVms, removeRecord } from "../running/record.ts";
import { enabledDrives } from "../storage/drives.ts";
import type { StorageFacts } from "../storage/preflight.ts";
import { removeQuietly } from "../remove.ts";
import { realPathOr } from "../fs.ts";

/** The image files and devices a VM's drives use, as real paths. */
export function imagesOf(settings: Settings, dir: string): string[] {
  const out: string[] = [];
  for (const drive of enabledDrives(settings, settings.get("vm_home") || dir)) {
    try {
      const loc = inspectStorage(drive.backend, drive.base).location;
      if (loc.kind === "file" || loc.kind === "device") out.push(realPathOr(loc.path));
    } catch { /* QEMU will say what is wrong with it */ }
  }
  return out;
}

/**
 * QEMU's "Failed to get … lock" names an image another QEMU holds: when that
 * is a VM vmtools started, the error names the VM.
 */
export async function imageInUse(e: unknown, settings: Settings): Promise<VmError | undefined> {
  const image = /Is another process using the image \[(.*)\]\?/.exec(String(e))?.[1];
  if (!image) return undefined;
  const real = realPathOr(image);
  const holders = recordedVms((dir) => vmFiles(dir, settings)).filter((r) =>
    r.pid !== undefined && r.images?.includes(real)
  );
  const live = await processStarts(holders.map((r) => r.pid!));
  const holder = holders.find((r) => {
    const p = live.get(r.pid!);
    return p !== undefined && sameStart(p.started, r.started);
  });
  if (!holder) return new VmError(`${image}: in use by another process (not a VM vmtools started)`);
  return new VmError(
    `${image}: in use by the running VM '${holder.name}' (${holder.dir}, pid ${holder.pid}); stop it first (vmdown)`,
  );
}

/**
 * Removes what a VM that no longer runs left behind (pid file, sockets,
 * record), and a serial log that is a symbolic link: QEMU would empty and
 * write the file it leads to, another VM's or any of the user's.
 */
export function clearRuntimeFiles(files: VmFiles): void {
  removeRecord(files);
  for (const f of [files.pid, files.monitor, files.serial]) removeQuietly(f);
  try {
    if (Deno.lstatSync(files.serialLog).isSymlink) removeQuietly(files.serialLog);
  } catch { /* no log yet */ }
}

/**
 * Starts QEMU, retrying where the display is the only problem: SPICE,
 * unlike VNC, cannot pick a free port itself and vmtools may not probe TCP
 * ports, so a taken port means trying the next one; and a window that
 * `vm_display_type=auto` asked for but cannot open falls back to VNC.
 */
export async function launchWithDisplayRetries(
  first: BuiltCommand,
  settings: Settings,
  files: VmFiles,
  host: HostInfo,
  loader: ModuleLoader,
  tools: Toolbox,
  token: string,
  facts: StorageFacts,
): Promise<{ args: string[]; launched: Launched }> {
  let cmd = first;
  for (let attempt = 0;; attempt++) {
    try {
      return { args: cmd.args, launched: await launchDetached(cmd, files.monitor, token, tools.log) };
    } catch (e) {
      const message = String(e);
      const type = settings.get("vm_display_type");
      if (
        attempt < 100 && type === "spice" && !settings.get("vm_display_port") && /SPICE sockets/.test(message)
      ) {
        const next = Number(settings.get("vm_display_portmin") || 5900) + 1;
        tools.log.debug(`SPICE port taken, trying ${next}`);
        settings.set("vm_display_portmin", String(next));
      } else if (
        type === "auto" && host.graphical &&
        /gtk initialization failed|Display '\w+' is not available/.test(message)
      ) {
        tools.log.warn("no window could be opened on this display; serving VNC instead");
        settings.set("vm_display_type", "vnc");
      } else throw e;
      clearRuntimeFiles(files);
      cmd = await buildCommand(settings, files, host, loader, tools.log, facts);
    }
  }
}

/** Where the VM's display can be reached, asking QEMU for the port it picked. */
export async function displayOf(args: readonly string[], qmp: QmpClient): Promise<string> {
  if (args.includes("-vnc") || args.includes("-spice")) {
    try {
      const { vnc, spice } = await queryDisplays(qmp, 3000);
      return displayUrl(vnc, spice) ?? "?";
    } catch {
      return "?";
    }
  }
  const i = args.indexOf("-display");
  return i >= 0 ? args[i + 1] : "default";
}
