/**
 * What the completion script writers get.
 * @module
 */
import type { CommandSpec } from "../spec.ts";

/** The declarations and the fixed lists a completion script holds. */
export interface CompletionData {
  /** Every command. */
  commands: readonly CommandSpec[];
  /** `vmtools` itself: its options (`--install-links DIR`) before any command. */
  own: CommandSpec;
  /** Setting names, offered after `-o` as `NAME=`. */
  settings: readonly string[];
  /** Settings whose values are yes or no. */
  booleans: readonly string[];
  /** Built-in template names (installed ones are looked up when completing). */
  templates: readonly string[];
  /** Image file name endings, without the dot. */
  images: readonly string[];
  /** The file that makes a directory a VM home. */
  settingsFile: string;
}
