/**
 * Finding a running VM's files from a path the user gives: a VM home, a
 * bare boot's runtime directory, a file inside either, or a socket or log
 * file itself. Only tool settings (`cfg_file_*`) name these files, and a VM
 * cannot set those, so the tool settings are all that is needed.
 * @module
 */
import { VmError } from "../errors.ts";
import type { VmFiles } from "../modules/api.ts";
import { dirname, resolve } from "../path.ts";
import type { Settings } from "../settings/settings.ts";
import { vmFiles } from "../home/files.ts";
import { isVmHome } from "../home/home.ts";
import { exists } from "../fs.ts";

/** What a path points at. */
export interface VmTarget {
  /** How to name the VM in messages: the path as given, or the directory. */
  label: string;
  /** The directory holding the VM's runtime files. */
  dir: string;
  /** The runtime files of that directory. */
  files: VmFiles;
  /** Whether `dir` holds a settings file (a kept VM, not a bare boot). */
  isHome: boolean;
  /** The path given, made absolute, when it names something other than a directory. */
  given?: string;
  /** What `given` is. */
  givenKind?: "socket" | "file" | "other";
}

/** The kinds of runtime file a command may ask a target for. */
export type RuntimeFile = "monitor" | "serial" | "serialLog";

/**
 * Works out which VM `path` designates. Throws a {@linkcode VmError} when
 * the path does not exist, or is a directory (or a file in one) that holds
 * neither a VM nor a bare boot's runtime files.
 */
export function locateVm(path: string, tool: Settings, cwd?: string): VmTarget {
  const abs = resolve(path, cwd);
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(abs);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new VmError(`${path}: no such file or directory`);
    }
    throw new VmError(`${path}: ${(e as Error).message}`);
  }
  const dir = info.isDirectory ? abs : dirname(abs);
  const files = vmFiles(dir, tool);
  const target: VmTarget = {
    label: path === "." ? dir : path,
    dir,
    files,
    isHome: isVmHome(dir, tool.get("cfg_file_vmsettings")),
  };
  if (!info.isDirectory) {
    target.given = abs;
    target.givenKind = info.isSocket ? "socket" : info.isFile ? "file" : "other";
  }
  const runtime = [files.pid, files.monitor, files.serial, files.serialLog];
  if (
    !target.isHome && target.givenKind !== "socket" &&
    !runtime.some(exists)
  ) {
    throw new VmError(
      `${target.label}: not a VM home (no ${
        tool.get("cfg_file_vmsettings")
      }) nor the runtime directory of a bare boot`,
    );
  }
  return target;
}

/**
 * The file of kind `want` for this target: the socket given, when a socket
 * that is not one of the VM's own runtime files was given and a socket is
 * wanted; otherwise the file of that kind in the target's directory. A
 * socket of the directory that is a symbolic link is refused: a home from
 * elsewhere could point it at another VM's monitor or console.
 */
export function targetFile(target: VmTarget, want: RuntimeFile): string {
  const { given, givenKind, files } = target;
  const own = [files.monitor, files.serial, files.serialLog, files.pid];
  if (given !== undefined && givenKind === "socket" && want !== "serialLog" && !own.includes(given)) {
    return given;
  }
  const path = files[want];
  if (want !== "serialLog" && isSymlink(path)) {
    throw new VmError(
      `${path}: a symbolic link, not this VM's own socket (it may lead to another VM); not followed`,
    );
  }
  return path;
}

function isSymlink(path: string): boolean {
  try {
    return Deno.lstatSync(path).isSymlink;
  } catch {
    return false;
  }
}
