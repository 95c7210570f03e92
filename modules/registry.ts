/**
 * The built-in modules, one lazily loaded set per family (a family's modules
 * always run together, so they load together). A file of the same name in a
 * configuration root's `modules/<family>/` replaces one of these.
 * @module
 */
import type { BuiltinRegistry } from "../lib/modules/loader.ts";

/** Every built-in module by family; each set maps module names to functions. */
export const BUILTIN_MODULES: BuiltinRegistry = {
  "buildcmd": () => import("./buildcmd/builtins.ts"),
  "configure/templates": () => import("./configure/templates/builtins.ts"),
  "configure/settings": () => import("./configure/settings/builtins.ts"),
  "clone": () => import("./clone/builtins.ts"),
};
