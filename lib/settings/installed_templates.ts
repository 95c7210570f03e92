/**
 * The templates a new VM can be given, for modules that let the user choose:
 * the built-in ones and `templates/NAME.tpl` in the configuration roots,
 * found where settings resolution finds them (a root's file replaces a
 * built-in or a lower root's file of the same name).
 * @module
 */
import type { Roots } from "../roots.ts";
import { BUILTIN_TEMPLATES } from "./templates.ts";
import { readSettingsText } from "./source.ts";

/** A template by name, with the first comment line of its text. */
export interface TemplateInfo {
  /** What `-t` and `template` lines call it (a file's name without `.tpl`). */
  name: string;
  /** Its first comment line, `#` and blanks stripped; `""` when it has none. */
  description: string;
}

// What a template name may be (lib/settings/file.ts refuses the rest).
const NAME = /^[A-Za-z0-9_]{1,251}$/;

/**
 * Lists the templates, sorted by name. The user's root counts only when
 * `userhome`. A template file that cannot be read is left out and reported
 * through `warn`.
 */
export function installedTemplates(
  roots: Roots,
  userhome: boolean,
  warn: (msg: string) => void,
): TemplateInfo[] {
  const texts = new Map<string, string>(Object.entries(BUILTIN_TEMPLATES));
  for (const dir of [roots.share, roots.etc, ...(userhome ? [roots.user] : [])]) {
    for (const name of tplNames(`${dir}/templates`)) {
      const path = `${dir}/templates/${name}.tpl`;
      try {
        const text = readSettingsText(path);
        if (text !== undefined) texts.set(name, text);
      } catch (e) {
        warn(`${(e as Error).message}: not offered as a template`);
        texts.delete(name);
      }
    }
  }
  return [...texts].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
    .map(([name, text]) => ({ name, description: firstComment(text) }));
}

/** Names of the `NAME.tpl` files in `dir` (none when it is missing). */
function tplNames(dir: string): string[] {
  const names: string[] = [];
  try {
    for (const e of Deno.readDirSync(dir)) {
      const name = e.name.endsWith(".tpl") ? e.name.slice(0, -4) : "";
      if (NAME.test(name)) names.push(name);
    }
  } catch { /* no templates folder */ }
  return names;
}

/** The first comment line of a settings text, without its `#`. */
export function firstComment(text: string): string {
  const line = text.split("\n").find((l) => /^\s*#/.test(l));
  return line?.replace(/^\s*#+\s*/, "").trim() ?? "";
}
