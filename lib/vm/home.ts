/**
 * VM homes: directories holding a settings file, and their children lists.
 * @module
 */
import type { Settings } from "../settings/settings.ts";

/**
 * Whether `dir` holds a VM (has a settings file). Anything but a directory
 * counts, so that a settings file that is a FIFO or a device is refused by
 * the settings reader, naming it, rather than taken for a plain directory.
 */
export function isVmHome(dir: string, settingsName = "vm.settings"): boolean {
  try {
    return !Deno.statSync(`${dir}/${settingsName}`).isDirectory;
  } catch {
    return false;
  }
}

/** The children listed in a VM's children file, as written. */
export function childrenOf(home: string, settings: Settings): string[] {
  try {
    return Deno.readTextFileSync(`${home}/${settings.get("cfg_file_childs")}`)
      .split("\n").filter((l) => l.trim() !== "");
  } catch {
    return [];
  }
}

/** Whether a VM has at least one child. */
export function hasChildren(home: string, settings: Settings): boolean {
  return childrenOf(home, settings).length > 0;
}
