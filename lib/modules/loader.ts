/**
 * Finds modules by name: `modules/<family>/NAME.ts` under the user's
 * configuration (unless `cfg_include_userhome=no`), `/etc/vmtools`,
 * `/usr/local/share/vmtools`, then the built-in ones. Found files are
 * loaded by dynamic import. Also warns, once per name and command, about
 * settings whose names neither vmtools nor any listed module knows.
 * @module
 */
import { describeError, VmError } from "../errors.ts";
import type { Roots } from "../roots.ts";
import { DECLARABLE, DeclaredNames, unknownCandidates, unknownSettingWarning } from "../settings/known.ts";
import type { Settings } from "../settings/settings.ts";
import { refuseShared } from "../settings/source.ts";
import type { Family } from "./api.ts";

/** Loads one family's built-in modules, as a record from name to function. */
export type BuiltinLoader = () => Promise<Readonly<Record<string, unknown>>>;

/** The built-in modules, by family. */
export type BuiltinRegistry = Record<Family, BuiltinLoader>;

/** A module ready to run. */
export interface LoadedModule<F> {
  /** Its name in the `cfg_modules_*` list. */
  name: string;
  /** The file it came from, or `built-in`. */
  source: string;
  /** Its default export. */
  run: F;
}

/** Where warnings go (a `Logger`). */
export interface WarningSink {
  /** Tells the user of a problem that does not stop the command. */
  warn(msg: string): void;
}

const NAME = /^[A-Za-z0-9_]+$/;
const NO_FILES: ReadonlySet<string> = new Set();

/** The module lists and the family each names. */
const LISTS: Readonly<Record<string, Family>> = {
  cfg_modules_buildcmd: "buildcmd",
  cfg_modules_clone: "clone",
  cfg_modules_configure_templates: "configure/templates",
  cfg_modules_configure_settings: "configure/settings",
};

// One process runs one command: a name is warned about once per command,
// however many VMs or resolutions it goes through.
const warned = new Set<string>();

/** Resolves and imports modules for one run of a command. */
export class ModuleLoader {
  /**
   * Module files are looked up under `roots` (the user's only when
   * `userhome`: `cfg_include_userhome`), before the `builtins`.
   */
  constructor(
    readonly roots: Roots,
    readonly userhome: boolean,
    readonly builtins: BuiltinRegistry,
  ) {}

  /** Loads the modules named by a `cfg_modules_*` list, in order (imported in parallel). */
  load<F>(
    family: Family,
    names: readonly string[],
    listSetting: string,
  ): Promise<LoadedModule<F>[]> {
    for (const name of names) {
      if (!NAME.test(name)) {
        throw new VmError(
          `${listSetting}: bad module name '${name}' (letters, digits and _ only)`,
        );
      }
    }
    return Promise.all(
      names.map((name) => this.#loadOne<F>(family, name, listSetting)),
    );
  }

  /**
   * Warns about each setting of `settings` given by a file or `-o` whose
   * name is unknown: not a default, not of a numbered family, not reserved
   * for users (`vm_custom_*`, `cfg_custom_*`), and declared by no module of
   * any `cfg_modules_*` list. Costs one lookup per given setting when every
   * name is known; only an unknown name makes it import the listed module
   * files (the ones of this command are imported already) to read their
   * `reads`.
   */
  async warnUnknownSettings(settings: Settings, log: WarningSink): Promise<void> {
    const unknown = unknownCandidates(settings).filter(([name]) => !warned.has(name));
    if (!unknown.length) return;
    const declared = await this.declaredSettings(settings);
    for (const [name, origin] of unknown) {
      if (declared.has(name) || warned.has(name)) continue;
      warned.add(name);
      log.warn(unknownSettingWarning(name, origin, declared));
    }
  }

  /**
   * The setting names declared (`export const reads`) by the module files
   * that the `cfg_modules_*` lists of `settings` name. A file that fails to
   * load declares nothing here: loading it to run it reports the failure.
   */
  async declaredSettings(settings: Settings): Promise<DeclaredNames> {
    const files: string[] = [];
    for (const [list, family] of Object.entries(LISTS)) {
      let names: string[];
      try {
        names = settings.list(list);
      } catch {
        continue; // reported when the list is loaded
      }
      for (const name of names) {
        const path = NAME.test(name) ? this.#find(family, name) : undefined;
        if (path) files.push(path);
      }
    }
    const declared = new DeclaredNames();
    await Promise.all(files.map(async (path) => {
      let mod: Record<string, unknown>;
      try {
        checkModuleFile(path);
        mod = await import(fileUrl(path));
      } catch {
        return;
      }
      for (const name of checkReads(mod.reads, path)) declared.add(name);
    }));
    return declared;
  }

  /** The roots searched, highest precedence first. */
  #dirs(): string[] {
    return [...(this.userhome ? [this.roots.user] : []), this.roots.etc, this.roots.share];
  }

  /** The file that provides module `name` of `family`, if a root has one. */
  #find(family: Family, name: string): string | undefined {
    const dir = this.#dirs().find((d) => this.#present(d, family).has(`${name}.ts`));
    return dir === undefined ? undefined : `${dir}/modules/${family}/${name}.ts`;
  }

  /** The module files present in one root's family folder. */
  #present(dir: string, family: Family): ReadonlySet<string> {
    // Walk down from the root so that a missing folder costs one failed
    // listing for all families (failed system calls are slow in Deno).
    let path = dir;
    for (const part of ["modules", ...family.split("/")]) {
      if (!this.#list(path).has(`${part}/`)) return NO_FILES;
      path += `/${part}`;
    }
    return this.#list(path);
  }

  /** A directory's entries (directories with a trailing slash), read once. */
  #list(path: string): Set<string> {
    let names = this.#listing.get(path);
    if (!names) {
      names = new Set();
      try {
        for (const e of Deno.readDirSync(path)) names.add(e.isDirectory ? `${e.name}/` : e.name);
      } catch { /* missing or unreadable: nothing overridden there */ }
      this.#listing.set(path, names);
    }
    return names;
  }

  #listing = new Map<string, Set<string>>();

  async #loadOne<F>(
    family: Family,
    name: string,
    listSetting: string,
  ): Promise<LoadedModule<F>> {
    const path = this.#find(family, name);
    if (path !== undefined) {
      checkModuleFile(path);
      let mod: { default?: unknown; reads?: unknown };
      try {
        mod = await import(fileUrl(path));
      } catch (e) {
        throw new VmError(`module ${path} failed to load: ${describeError(e)}`);
      }
      checkReads(mod.reads, path);
      return { name, source: path, run: checkFunction<F>(mod.default, path) };
    }
    const builtin = (await this.builtins[family]())[name];
    if (builtin === undefined) {
      throw new VmError(
        `${listSetting}: no module '${name}' in modules/${family}/ of ${
          this.#dirs().join(", ")
        } nor built in`,
      );
    }
    return {
      name,
      source: "built-in",
      run: checkFunction<F>(builtin, `built-in ${name}`),
    };
  }
}

/**
 * {@linkcode ModuleLoader.warnUnknownSettings} for a command that has no
 * loader at hand (`vmcreate` checks its `-o` values before storing them).
 */
export function warnUnknownSettings(
  settings: Settings,
  tools: { roots: Roots; builtins: BuiltinRegistry; log: WarningSink },
): Promise<void> {
  return new ModuleLoader(tools.roots, settings.bool("cfg_include_userhome"), tools.builtins)
    .warnUnknownSettings(settings, tools.log);
}

/** Runs one module, turning anything it throws into an error naming it. */
export async function runModule<F extends (ctx: C) => unknown, C>(
  mod: LoadedModule<F>,
  ctx: C,
): Promise<void> {
  try {
    await mod.run(ctx);
  } catch (e) {
    if (e instanceof VmError && mod.source === "built-in") throw e;
    const where = mod.source === "built-in" ? `built-in module ${mod.name}` : `module ${mod.source}`;
    throw new VmError(`${where}: ${describeError(e)}`);
  }
}

/** A module file runs as the user: it must be a regular file only its owner may change. */
function checkModuleFile(path: string): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (e) {
    throw new VmError(`module ${path} failed to load: ${describeError(e)}`);
  }
  if (!info.isFile) throw new VmError(`${path}: not a regular file`);
  refuseShared(path, info);
}

function checkFunction<F>(value: unknown, where: string): F {
  if (typeof value !== "function") {
    throw new VmError(`module ${where} must default-export a function`);
  }
  return value as F;
}

/** A module's `reads` export: absent, or a list of setting names (`NAME`, or `PREFIX*`). */
function checkReads(value: unknown, path: string): readonly string[] {
  if (value === undefined) return [];
  if (Array.isArray(value) && value.every((n) => typeof n === "string" && DECLARABLE.test(n))) return value;
  throw new VmError(
    `module ${path}: 'reads' must be a list of setting names (vm_… or cfg_…, or a prefix ending in *)`,
  );
}

function fileUrl(path: string): string {
  return "file://" + path.split("/").map(encodeURIComponent).join("/");
}
