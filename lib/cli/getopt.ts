/**
 * POSIX-style option parsing: bundled flags (`-yn`), counted flags (`-vvv`),
 * repeatable valued options (`-o a=1 -o b=2`), values glued or separate
 * (`-ofoo`, `-o -foo`), `--` ending options, and a few `--long` flags.
 *
 * Written here rather than taken from commander or `node:util` because every
 * command pays for its parser at start-up: commander costs ~30 ms and any
 * `node:` import ~15 ms, against a 50 ms budget for the whole of `vmup -n`.
 * @module
 */
import { UsageError } from "../errors.ts";

/** What a command accepts. */
export interface OptionSpec {
  /** Single-letter flags without a value, e.g. `"bhinqrsvyz"`. */
  flags: string;
  /** Single-letter options that take a value, e.g. `"CcDdot"`. */
  valued?: string;
  /** Long flags without a value, e.g. `["json", "help"]`. */
  long?: string[];
}

/** The result of parsing. */
export interface ParsedArgs {
  /** How many times each flag was given (letters, and long names). */
  count: Record<string, number>;
  /** Every value of each valued option, in order. */
  values: Record<string, string[]>;
  /** The remaining arguments. */
  operands: string[];
}

/** Parses `argv` against `spec`, throwing {@linkcode UsageError} on anything unknown. */
export function getopt(argv: readonly string[], spec: OptionSpec): ParsedArgs {
  const out: ParsedArgs = { count: {}, values: {}, operands: [] };
  const valued = spec.valued ?? "";
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      i++;
      break;
    }
    if (arg.startsWith("--")) {
      const name = arg.slice(2);
      if (name === "help" || spec.long?.includes(name)) {
        const key = name === "help" ? "h" : name;
        out.count[key] = (out.count[key] ?? 0) + 1;
        continue;
      }
      throw new UsageError(`unknown option '${arg}'`);
    }
    if (arg.length < 2 || arg[0] !== "-") {
      out.operands.push(arg);
      continue;
    }
    for (let j = 1; j < arg.length; j++) {
      const letter = arg[j];
      if (valued.includes(letter)) {
        let value = arg.slice(j + 1);
        if (value === "") {
          if (i + 1 >= argv.length) {
            throw new UsageError(`option '-${letter}' needs a value`);
          }
          value = argv[++i];
        }
        (out.values[letter] ??= []).push(value);
        break;
      }
      if (!spec.flags.includes(letter)) {
        throw new UsageError(`unknown option '-${letter}'`);
      }
      out.count[letter] = (out.count[letter] ?? 0) + 1;
    }
  }
  out.operands.push(...argv.slice(i));
  return out;
}
