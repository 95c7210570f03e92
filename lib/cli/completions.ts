/**
 * `vmtools completions bash|zsh|fish`: a completion script for every
 * command name, written from the commands' declarations.
 * @module
 */
import { DEFAULTS } from "../settings/defaults.ts";
import { BUILTIN_TEMPLATES } from "../settings/templates.ts";
import { bashScript } from "./completions/bash.ts";
import type { CompletionData } from "./completions/data.ts";
import { fishScript } from "./completions/fish.ts";
import { zshScript } from "./completions/zsh.ts";
import type { CommandSpec } from "./spec.ts";

/** The shells there is a script for. */
export const SHELLS: readonly string[] = ["bash", "zsh", "fish"];

/** File name endings of the disk and CD-ROM images a storage operand completes to. */
export const IMAGE_EXTENSIONS: readonly string[] = [
  "qcow2",
  "img",
  "raw",
  "iso",
  "vmdk",
  "vdi",
  "vhd",
  "vhdx",
  "qed",
  "dmg",
  "ova",
  "vmx",
];

/**
 * The completion script for `shell` (one of {@linkcode SHELLS}) covering
 * `commands`, and `own`, the options of `vmtools` itself.
 */
export function completionScript(shell: string, commands: readonly CommandSpec[], own: CommandSpec): string {
  const data = completionData(commands, own);
  switch (shell) {
    case "bash":
      return bashScript(data);
    case "zsh":
      return zshScript(data);
    case "fish":
      return fishScript(data);
  }
  throw new Error(`no completion script for ${shell}`);
}

/** What every script needs besides the declarations. */
export function completionData(commands: readonly CommandSpec[], own: CommandSpec): CompletionData {
  // A VM's network interfaces are numbered: offer the first one's settings,
  // which fall back to the vm_networking_default_* ones.
  const iface1 = [
    "enable",
    "hostfwd",
    ...Object.keys(DEFAULTS).flatMap((n) => {
      const m = /^vm_networking_default_(\w+)$/.exec(n);
      return m ? [m[1]] : [];
    }),
  ].map((what) => `vm_networking_iface1_${what}`);
  const settings = [...Object.keys(DEFAULTS), ...iface1].sort();
  const booleans = settings.filter((n) => /^(yes|no)$/.test(DEFAULTS[n] ?? "") || n.endsWith("_enable"));
  return {
    commands,
    own,
    settings,
    booleans,
    templates: Object.keys(BUILTIN_TEMPLATES),
    images: IMAGE_EXTENSIONS,
    settingsFile: DEFAULTS.cfg_file_vmsettings,
  };
}
