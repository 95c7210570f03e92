/**
 * Layering: built-in defaults, then the shared, system and user
 * `vmtools.conf`, then the VM chain from the farthest ancestor down (each
 * one's templates, then its own values), then `-o` values.
 * @module
 */
import { VmError } from "../errors.ts";
import { basename, resolve as resolvePath } from "../path.ts";
import type { Roots } from "../roots.ts";
import { DEFAULTS } from "./defaults.ts";
import {
  assignmentLines,
  parentOf,
  parseSettings,
  readSettingsFileIfAny,
  SettingsError,
  type SettingsFile,
  templatesOf,
} from "./file.ts";
import { editModuleList, isModuleList, ListEditError } from "./module_list.ts";
import { describeOrigin, type Origin, Settings } from "./settings.ts";
import { excerpt } from "./syntax.ts";
import { BUILTIN_TEMPLATES } from "./templates.ts";
import { realPathOr } from "../fs.ts";

/** One VM of the chain: its home and its settings file. */
export interface ChainLink {
  /** The home: as requested for the VM itself, its `parent` line resolved for an ancestor. */
  home: string;
  /** Its settings file, as read (or as given in the request, for the VM itself). */
  file: SettingsFile;
}

/** What to resolve. */
export interface ResolveRequest {
  /** Where the `vmtools.conf` files and templates are looked up. */
  roots: Roots;
  /** The VM home; absent for the tool's own settings. */
  home?: string;
  /** The VM's settings file when already read (or made in memory). */
  file?: SettingsFile;
  /** Templates given on the command line (`-t`), applied after the VM's own. */
  templates?: readonly string[];
  /** `-o name=value` pairs, applied last. */
  overrides?: readonly [string, string][];
}

/** The result: the settings, and the VM chain from the root down. */
export interface Resolved {
  /** Every setting's effective value and where it comes from. */
  settings: Settings;
  /** The VM and its ancestors, the root first and the VM last; empty for the tool's own settings. */
  chain: ChainLink[];
}

// Configuration files and templates do not change while a command runs, and
// one command resolves settings several times: each is read once per Roots
// object, which a command makes once.
const sharedFiles = new WeakMap<Roots, Map<string, SettingsFile | undefined>>();

function readShared(
  roots: Roots,
  path: string,
  kind: "conf" | "template",
): SettingsFile | undefined {
  let cache = sharedFiles.get(roots);
  if (!cache) sharedFiles.set(roots, cache = new Map());
  if (!cache.has(path)) cache.set(path, readSettingsFileIfAny(path, kind));
  return cache.get(path);
}

/** Computes effective settings. Throws {@linkcode VmError} naming the file at fault. */
export function resolveSettings(req: ResolveRequest): Resolved {
  const s = new Settings();
  for (const [k, v] of Object.entries(DEFAULTS)) {
    s.set(k, v, { layer: "default" });
  }

  const applyConf = (dir: string, layer: "share" | "system" | "user") => {
    const path = `${dir}/vmtools.conf`;
    const f = readShared(req.roots, path, "conf");
    if (f) {
      for (const a of assignmentLines(f)) {
        setTool(s, a.name, a.value, { layer, source: path, file: path, line: a.line });
      }
    }
  };
  applyConf(req.roots.share, "share");
  applyConf(req.roots.etc, "system");
  // -o decides whether the user's file is read, so it counts before that file.
  const cmdlineUserhome = req.overrides?.findLast(([k]) => k === "cfg_include_userhome");
  if (cmdlineUserhome) {
    s.set(cmdlineUserhome[0], cmdlineUserhome[1], { layer: "cmdline" });
  }
  const userhome = s.bool("cfg_include_userhome");
  if (userhome) applyConf(req.roots.user, "user");
  // Tool settings come only from the files above and -o: applied once,
  // since a module list change (+name) must not apply twice.
  for (const [k, v] of req.overrides ?? []) {
    if (k.startsWith("cfg_")) setTool(s, k, v, { layer: "cmdline" });
  }

  const limit = s.int("cfg_limit_nesting");
  const templates = new TemplateApplier(s, req.roots, userhome, limit);
  const chain = req.home ? loadChain(req.home, req.file, s.get("cfg_file_vmsettings"), limit) : [];
  chain.forEach((link, i) => {
    const own = i === chain.length - 1;
    const origin: Origin = own ? { layer: "vm" } : { layer: "parent", source: link.home };
    for (const t of templatesOf(link.file)) templates.apply(t, link.file.path);
    for (const a of assignmentLines(link.file)) {
      s.set(a.name, a.value, { ...origin, file: link.file.path, line: a.line });
    }
  });
  for (const t of req.templates ?? []) templates.apply(t, "the command line");
  for (const [k, v] of req.overrides ?? []) {
    if (!k.startsWith("cfg_")) s.set(k, v, { layer: "cmdline" });
  }

  if (req.home) {
    s.set("vm_home", req.home);
    if (s.get("vm_name") === "") s.set("vm_name", basename(req.home));
  }
  return { settings: s, chain };
}

/**
 * Sets a tool setting from a `vmtools.conf` file or `-o`; a module list in
 * the append form changes the list so far (see `module_list.ts`). A change
 * that cannot apply is an error naming the file and line, or the option.
 */
function setTool(s: Settings, name: string, value: string, origin: Origin): void {
  if (!isModuleList(name)) return s.set(name, value, origin);
  let edited: string | undefined;
  try {
    edited = editModuleList(s.get(name), value);
  } catch (e) {
    if (!(e instanceof ListEditError)) throw e;
    if (origin.file !== undefined && origin.line !== undefined) {
      throw new SettingsError(origin.file, origin.line, `${name}: ${e.message}`);
    }
    throw new VmError(`setting ${name}='${excerpt(value)}' (from ${describeOrigin(origin)}): ${e.message}`);
  }
  if (edited === undefined) return s.set(name, value, origin);
  s.set(name, edited, { ...origin, amends: s.origin(name) });
}

/** Reads the VM at `home` and its ancestors; returns them root first. */
function loadChain(
  home: string,
  file: SettingsFile | undefined,
  settingsName: string,
  limit: number,
): ChainLink[] {
  const chain: ChainLink[] = [];
  const seen = new Set<string>();
  let current: ChainLink | undefined = {
    home,
    file: file ?? readVmFile(home, settingsName),
  };
  while (current) {
    const key = realPathOr(current.home);
    if (seen.has(key)) {
      throw new VmError(`parent loop: ${current.home} is its own ancestor`);
    }
    seen.add(key);
    // The chain holds the VM and its ancestors: `limit` ancestors are fine.
    if (chain.length > limit) {
      throw new VmError(
        `${home}: parent chain deeper than cfg_limit_nesting=${limit}`,
      );
    }
    chain.unshift(current);
    const parent = parentOf(current.file);
    if (parent === undefined) break;
    const parentHome = resolvePath(parent, current.home);
    const parentFile = readSettingsFileIfAny(
      `${parentHome}/${settingsName}`,
      "vm",
    );
    if (!parentFile) {
      throw new VmError(
        `${current.file.path}: parent VM '${parent}' not found (no ${parentHome}/${settingsName}); 'vmfix -p' can repair the link`,
      );
    }
    current = { home: parentHome, file: parentFile };
  }
  return chain;
}

function readVmFile(home: string, settingsName: string): SettingsFile {
  const f = readSettingsFileIfAny(`${home}/${settingsName}`, "vm");
  if (!f) throw new VmError(`${home}: not a VM home (no ${settingsName})`);
  return f;
}

// Built-in templates, parsed once.
const builtinFiles = new Map<string, SettingsFile>();

/** Applies templates recursively, detecting loops and excessive depth. */
class TemplateApplier {
  #stack: string[] = [];
  #applying = new Set<string>();

  constructor(
    readonly settings: Settings,
    readonly roots: Roots,
    readonly userhome: boolean,
    readonly limit: number,
  ) {}

  apply(name: string, from: string): void {
    if (this.#applying.has(name)) {
      throw new VmError(
        `template loop: ${[...this.#stack, name].join(" -> ")}`,
      );
    }
    if (this.#stack.length >= this.limit) {
      throw new VmError(
        `templates nested deeper than cfg_limit_nesting=${this.limit} at '${name}'`,
      );
    }
    const file = this.#load(name, from);
    this.#stack.push(name);
    this.#applying.add(name);
    for (const t of templatesOf(file)) this.apply(t, file.path);
    for (const a of assignmentLines(file)) {
      this.settings.set(a.name, a.value, { layer: "template", source: name, file: file.path, line: a.line });
    }
    this.#stack.pop();
    this.#applying.delete(name);
  }

  #files = new Map<string, SettingsFile>();

  #load(name: string, from: string): SettingsFile {
    let file = this.#files.get(name);
    if (!file) this.#files.set(name, file = this.#find(name, from));
    return file;
  }

  #find(name: string, from: string): SettingsFile {
    const dirs = [
      this.roots.share,
      this.roots.etc,
      ...(this.userhome ? [this.roots.user] : []),
    ];
    for (const dir of dirs.reverse()) {
      const f = readShared(this.roots, `${dir}/templates/${name}.tpl`, "template");
      if (f) return f;
    }
    const builtin = Object.hasOwn(BUILTIN_TEMPLATES, name) ? BUILTIN_TEMPLATES[name] : undefined;
    if (builtin !== undefined) {
      let f = builtinFiles.get(name);
      if (!f) {
        f = parseSettings(builtin, `(built-in template ${name})`, "template");
        builtinFiles.set(name, f);
      }
      return f;
    }
    throw new VmError(`${from}: unknown template '${name}'`);
  }
}
