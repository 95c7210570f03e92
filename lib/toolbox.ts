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
  roots: Roots;
  log: Logger;
  prompter: Prompter;
  builtins: BuiltinRegistry;
}
