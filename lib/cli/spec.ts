/**
 * What a command declares about its command line: each option once, with
 * its help line and what completes its value, its operands, usage, text and
 * examples. `getopt` parses with it, `-h` is written from it (help.ts) and
 * so are the shell completions (completions/): they cannot drift apart.
 * @module
 */

/**
 * What completes a value or an operand in a shell:
 * - `vmhome`: directories (those holding a settings file are VM homes),
 * - `storage`: directories and disk or CD-ROM image files (`rw:`, `snap:`,
 *   `ro:` prefixes allowed),
 * - `dir`: directories,
 * - `setting`: a setting name followed by `=`, then its value,
 * - `template`: a template name, `pid`: a QEMU process id, `user`: a user,
 * - `none`: nothing (free text),
 * - a list of words: one of them.
 */
export type Completion =
  | "vmhome"
  | "storage"
  | "dir"
  | "setting"
  | "template"
  | "pid"
  | "user"
  | "none"
  | readonly string[];

/** One option. At least one of `short` and `long`. */
export interface OptionDecl {
  /** Its letter, without the dash: `"o"`. */
  short?: string;
  /** Its long name, without the dashes: `"json"`. */
  long?: string;
  /** The placeholder of its value (`"k=v"`); absent for a flag. */
  value?: string;
  /** Whether giving it again adds up (`-vvv`) or adds a value (`-o a -o b`). */
  repeats?: boolean;
  /** One line of help: the `-h` row and the completion's description. */
  help: string;
  /** Further lines for `-h` only, below the first. */
  more?: string;
  /** What completes its value (valued options; default `none`). */
  complete?: Completion;
  /** When given, the operands are of this kind instead (`vmdown -p`: pids). */
  operands?: Completion;
  /**
   * A long flag that may carry a value (`--libvirt` or `--libvirt=URI`),
   * named by this placeholder. It is counted like a flag either way; a
   * value goes into `values` as well.
   */
  optionalValue?: string;
  /** With `optionalValue`: a separate next argument this matches is taken as the value (`--libvirt qemu:///system`). */
  separateValue?: RegExp;
}

/** The declaration of a command: everything but what it does. */
export interface CommandSpec {
  /** The command's name (`vmup`), as `-h` shows it in the usage line and names its man page. */
  name: string;
  /** One line for command lists. */
  summary: string;
  /**
   * The usage line's end, one entry per form: `"[path ...]"`. Options a
   * form names (`"[-a | -p pid ...]"`) are left out of the generated
   * `[-flags] [-x value]` groups.
   */
  synopsis: readonly string[];
  /** The paragraph under the usage line. */
  description: string;
  /** The options, in the order `-h` lists them. */
  options: readonly OptionDecl[];
  /** What the operands complete to. */
  operands: Completion;
  /** Paragraphs after the options list. */
  notes?: string;
  /** Command lines, each with what it does. */
  examples: readonly (readonly [string, string])[];
  /** The manual page `-h` points to, when not `NAME(1)`. */
  manual?: string;
}

/** The key an option is counted or collected under: its letter, else its long name. */
export function optionKey(o: OptionDecl): string {
  return o.short ?? o.long!;
}

/** `-q`, `-v` and `-h`, which every command takes. */
export const COMMON_OPTIONS: readonly OptionDecl[] = [
  { short: "q", repeats: true, help: "fewer messages (repeatable)" },
  { short: "v", repeats: true, help: "more messages (repeatable)" },
  { short: "h", long: "help", help: "this help" },
];
