/**
 * Finds modules by name: `modules/<family>/NAME.ts` under the user's
 * configuration (only with `cfg_include_userhome=yes`), `/etc/vmtools`,
 * `/usr/local/share/vmtools`, then the built-in ones. Found files are
 * loaded by dynamic import.
 * @module
 */
import { describeError, VmError } from "../errors.ts";
import type { Roots } from "../roots.ts";
import { refuseShared } from "../settings/source.ts";
import type { Family } from "./api.ts";

/** Loads one family's built-in modules, as a record from name to function. */
export type BuiltinLoader = () => Promise<Readonly<Record<string, unknown>>>;

/** The built-in modules, by family. */
export type BuiltinRegistry = Record<Family, BuiltinLoader>;

/** A module ready to run. */
export interface LoadedModule<F> {
  name: string;
  /** The file it came from, or `built-in`. */
  source: string;
  run: F;
}

const NAME = /^[A-Za-z0-9_]+$/;
const NO_FILES: ReadonlySet<string> = new Set();

/** Resolves and imports modules for one run of a command. */
export class ModuleLoader {
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
    const dirs = [
      ...(this.userhome ? [this.roots.user] : []),
      this.roots.etc,
      this.roots.share,
    ];
    for (const dir of dirs) {
      if (!this.#present(dir, family).has(`${name}.ts`)) continue;
      const path = `${dir}/modules/${family}/${name}.ts`;
      checkModuleFile(path);
      let mod: { default?: unknown };
      try {
        mod = await import(fileUrl(path));
      } catch (e) {
        throw new VmError(`module ${path} failed to load: ${describeError(e)}`);
      }
      return { name, source: path, run: checkFunction<F>(mod.default, path) };
    }
    const builtin = (await this.builtins[family]())[name];
    if (builtin === undefined) {
      throw new VmError(
        `${listSetting}: no module '${name}' in modules/${family}/ of ${dirs.join(", ")} nor built in`,
      );
    }
    return {
      name,
      source: "built-in",
      run: checkFunction<F>(builtin, `built-in ${name}`),
    };
  }
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

function fileUrl(path: string): string {
  return "file://" + path.split("/").map(encodeURIComponent).join("/");
}
