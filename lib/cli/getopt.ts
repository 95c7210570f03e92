/**
 * POSIX-style option parsing from a command's option declarations: bundled
 * flags (`-yn`), counted flags (`-vvv`), repeatable valued options (`-o a=1
 * -o b=2`), values glued or separate (`-ofoo`, `-o -foo`), `--` ending
 * options, and long options (`--json`, `--name=value`).
 *
 * Written here rather than taken from commander or `node:util` because every
 * command pays for its parser at start-up: commander costs ~30 ms and any
 * `node:` import ~15 ms, against a 50 ms budget for the whole of `vmup -n`.
 * @module
 */
import { UsageError } from "../errors.ts";
import { type OptionDecl, optionKey } from "./spec.ts";
import { nearest } from "../nearest.ts";

/** The result of parsing. */
export interface ParsedArgs {
  /** How many times each flag was given, by letter (long name for long-only flags). */
  count: Record<string, number>;
  /** Every value of each valued option, in order, keyed like `count`. */
  values: Record<string, string[]>;
  /** The remaining arguments. */
  operands: string[];
}

/** Parses `argv` against `options`, throwing {@linkcode UsageError} on anything unknown. */
export function getopt(argv: readonly string[], options: readonly OptionDecl[]): ParsedArgs {
  const out: ParsedArgs = { count: {}, values: {}, operands: [] };
  const take = (o: OptionDecl, value?: string) => {
    const key = optionKey(o);
    if (value === undefined) out.count[key] = (out.count[key] ?? 0) + 1;
    else (out.values[key] ??= []).push(value);
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      i++;
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const o = options.find((o) => o.long === name);
      if (!o) throw unknownLong(arg.slice(0, eq < 0 ? undefined : eq), options);
      if (o.value === undefined && o.optionalValue !== undefined) {
        take(o);
        const next = argv[i + 1];
        if (eq >= 0) take(o, arg.slice(eq + 1));
        else if (next !== undefined && o.separateValue?.test(next)) take(o, argv[++i]);
      } else if (o.value === undefined) {
        if (eq >= 0) throw new UsageError(`option '--${name}' takes no value`);
        take(o);
      } else if (eq >= 0) {
        take(o, arg.slice(eq + 1));
      } else {
        if (i + 1 >= argv.length) throw new UsageError(`option '--${name}' needs a value`);
        take(o, argv[++i]);
      }
      continue;
    }
    if (arg.length < 2 || arg[0] !== "-") {
      out.operands.push(arg);
      continue;
    }
    for (let j = 1; j < arg.length; j++) {
      const letter = arg[j];
      const o = options.find((o) => o.short === letter);
      if (!o) throw new UsageError(`unknown option '-${letter}'`);
      if (o.value === undefined) {
        take(o);
        continue;
      }
      let value = arg.slice(j + 1);
      if (value === "") {
        if (i + 1 >= argv.length) {
          throw new UsageError(`option '-${letter}' needs a value`);
        }
        value = argv[++i];
      }
      take(o, value);
      break;
    }
  }
  out.operands.push(...argv.slice(i));
  return out;
}

/** The error for an unknown `--name`, naming the nearest long option there is. */
function unknownLong(given: string, options: readonly OptionDecl[]): UsageError {
  const names = options.flatMap((o) => o.long === undefined ? [] : [o.long]);
  const near = nearest(given.slice(2), names);
  return new UsageError(
    `unknown option '${given}'${near === undefined ? "" : ` (did you mean --${near}?)`}`,
  );
}
