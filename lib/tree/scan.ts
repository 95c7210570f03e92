/**
 * Finding VM homes (and the directories around them) below a directory,
 * for vmfix, vmmv and `vmcp -r`. Backup directories are skipped: what is in
 * them belongs to a change.
 * @module
 */
import { VmError } from "../errors.ts";
import { isVmHome } from "../home/home.ts";
import { basename, resolve } from "../path.ts";
import type { Settings } from "../settings/settings.ts";
import { backupDirPattern } from "../change/journal.ts";

/** Every directory at and (with `recursive`) below `dir`, `dir` first, by name. */
export function directoriesBelow(dir: string, tool: Settings, recursive: boolean, limit = 100): string[] {
  const backup = backupDirPattern(tool.get("cfg_file_tmpdir"));
  const out: string[] = [];
  const walk = (path: string, depth: number) => {
    out.push(path);
    if (!recursive || depth >= limit) return;
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(path)];
    } catch (e) {
      throw new VmError(`${path}: cannot read: ${(e as Error).message}`);
    }
    for (const e of entries.sort((a, b) => a.name < b.name ? -1 : 1)) {
      if (e.isDirectory && !backup.test(e.name)) walk(`${path}/${e.name}`, depth + 1);
    }
  };
  walk(resolve(dir), 0);
  return out;
}

/** The VM homes among the directories at and below `dir`. */
export function homesBelowDir(dir: string, tool: Settings, limit = 100): string[] {
  const name = tool.get("cfg_file_vmsettings");
  return directoriesBelow(dir, tool, true, limit).filter((d) => isVmHome(d, name));
}

/**
 * Where a copy or move of `source` to `dest` lands: inside `dest` when that
 * is an existing directory (a VM home too, as for cp and mv), else at `dest`.
 */
export function destination(source: string, dest: string): string {
  let isDir = false;
  try {
    isDir = Deno.statSync(dest).isDirectory;
  } catch { /* a new name */ }
  return isDir ? `${resolve(dest)}/${basename(resolve(source))}` : resolve(dest);
}
