/**
 * The buildcmd modules under libvirt. The built-in ones `describe.ts` turns
 * into libvirt elements ({@linkcode DESCRIBED}) do not run; every other
 * module in `cfg_modules_buildcmd` — a user's, or a built-in that
 * `describe.ts` does not know — runs as it does for vmup, on a command of
 * its own, and its arguments go to QEMU through `<qemu:commandline>`. A
 * user file that replaces a described built-in cannot be carried over: the
 * user hears so.
 * @module
 */
import type { BuildcmdModule, HostInfo, VmFiles } from "../modules/api.ts";
import type { ModuleLoader } from "../modules/loader.ts";
import { runModule } from "../modules/loader.ts";
import { buildcmdContext } from "../qemu/build.ts";
import { QemuCommandLine } from "../qemu/command.ts";
import { removeQuietly } from "../remove.ts";
import type { Settings } from "../settings/settings.ts";
import type { Logger } from "../ui/log.ts";

/** The QEMU arguments of the modules added to the list, and the temporary files they made. */
export interface ModuleArgs {
  /** Their QEMU arguments, module after module, for `<qemu:commandline>`. */
  args: string[];
  /** ISOs made from directories, to delete once QEMU has opened them. */
  transient: string[];
}

/**
 * The built-in buildcmd modules whose effect `describe.ts` writes as libvirt
 * elements. A built-in added to the program later runs like a user's module
 * until `describe.ts` takes it over and its name is added here.
 */
export const DESCRIBED: ReadonlySet<string> = new Set([
  "qemu",
  "firmware",
  "boot",
  "cpu",
  "macos",
  "display",
  "keyboard",
  "monitor",
  "serial",
  "name",
  "networking",
  "ram",
  "storage_cdrom",
  "storage_hdd",
]);

/** Runs the buildcmd modules libvirt elements do not stand for (see the module doc). */
export async function moduleArgs(
  settings: Settings,
  files: VmFiles,
  host: HostInfo,
  loader: ModuleLoader,
  log: Logger,
): Promise<ModuleArgs> {
  const modules = await loader.load<BuildcmdModule>(
    "buildcmd",
    settings.list("cfg_modules_buildcmd"),
    "cfg_modules_buildcmd",
  );
  await loader.warnUnknownSettings(settings, log);
  const out: ModuleArgs = { args: [], transient: [] };
  try {
    for (const m of modules) {
      if (DESCRIBED.has(m.name)) {
        if (m.source !== "built-in") {
          log.warn(`module ${m.source} replaces the built-in '${m.name}': not used under libvirt`);
        }
        continue;
      }
      const qemu = new QemuCommandLine();
      await runModule(m, buildcmdContext(settings, files, host, log, qemu, out.transient));
      log.step(`module ${m.source}: its QEMU arguments go through <qemu:commandline>`);
      out.args.push(...qemu.args);
    }
  } catch (e) {
    for (const f of out.transient) removeQuietly(f);
    throw e;
  }
  return out;
}
