/**
 * Writing a new VM's settings file: the customary header comment, and only
 * the values that differ from what the VM would inherit anyway.
 * @module
 */
import { currentUser } from "../users.ts";
import { assignments, parseSettings, type SettingsFile, setValue } from "./file.ts";

/** A settings file with the customary header comment. */
export function newSettingsFile(path: string, origin: string): SettingsFile {
  const user = currentUser();
  const header = `# ${new Date().toISOString().slice(0, 19).replace("T", " ")} by ${user}: ${origin}\n`;
  return parseSettings(header, path, "vm");
}

/** Drops values equal to what the VM would inherit, and never stores `*_createsize`. */
export function keepOnlyDifferences(
  file: SettingsFile,
  resolveFile: (f: SettingsFile) => { get(n: string): string },
): void {
  const bare = { ...file, lines: file.lines.filter((l) => l.kind !== "set") };
  const inherited = resolveFile(bare);
  for (const [name, value] of assignments(file)) {
    if (name.endsWith("_createsize") || inherited.get(name) === value) {
      setValue(file, name, undefined);
    }
  }
}
