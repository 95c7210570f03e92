/**
 * What every command hands down to the engine: where configuration lives,
 * how to talk to the user, and the built-in modules.
 * @module
 */
import type { BuiltinRegistry } from "./modules/loader.ts";
import type { Roots } from "./roots.ts";
import type { Logger } from "./ui/log.ts";
import type { Prompter } from "./ui/prompt.ts";

/** Shared dependencies of one command run. */
export interface Toolbox {
  /** Where settings files, templates and modules are looked up besides the homes. */
  roots: Roots;
  /** Messages to the user, at the verbosity of `-q`/`-v`, and the command's output. */
  log: Logger;
  /** Asks the user (or takes every proposal, with `-y`). */
  prompter: Prompter;
  /** The modules compiled into the program, loaded by family when needed. */
  builtins: BuiltinRegistry;
}
