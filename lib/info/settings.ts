/**
 * The settings part of `vminfo` (`-s`): what the VM, its templates and its
 * ancestors set (plus `-o` values), or with `-l` every setting with the
 * layer it comes from. The text form is valid settings text.
 * @module
 */
import { describeOrigin, type Origin, type Settings } from "../settings/settings.ts";
import { formatSection } from "./format.ts";

/** One setting as reported. */
export interface SettingInfo {
  /** The setting's name (`vm_ram_size`). */
  name: string;
  /** Its effective value, unquoted. */
  value: string;
  /** Where the value comes from, as {@linkcode describeOrigin} puts it. */
  origin: string;
}

/** Layers that only hold the tool's defaults and configuration files. */
const BACKGROUND = new Set(["default", "share", "system", "user", "tool"]);

/** Whether the VM (its file, templates, ancestors) or the command line gave this value. */
export function isVmGiven(origin: Origin | undefined): boolean {
  return origin !== undefined && !BACKGROUND.has(origin.layer);
}

/** Says where a value comes from; values the tool works out are `computed`. */
export function originText(origin: Origin | undefined): string {
  if (!origin) return "unknown";
  return origin.layer === "tool" ? "computed" : describeOrigin(origin);
}

/** The settings to report, sorted by name: all of them, or those the VM gives. */
export function selectSettings(settings: Settings, all: boolean): SettingInfo[] {
  return settings.entries()
    .filter(([, e]) => all || isVmGiven(e.origin))
    .map(([name, e]) => ({ name, value: e.value, origin: originText(e.origin) }));
}

/** The text form: `name=value` lines, with `# origin` comments in long form. */
export function formatSettings(rows: readonly SettingInfo[], long: boolean): string {
  return formatSection(
    "settings",
    rows.map((r) => ({
      key: r.name,
      value: r.value,
      comment: long ? r.origin : undefined,
    })),
  );
}
