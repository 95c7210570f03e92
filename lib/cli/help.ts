/**
 * The `-h` text of a command, written from its declaration: usage line(s),
 * description, one row per option, notes, examples. Loaded only when `-h`
 * is given.
 * @module
 */
import type { CommandSpec, OptionDecl } from "./spec.ts";

/** Where usage lines wrap. */
const WIDTH = 80;
/** The column option help starts at. */
const HELP_COLUMN = 15;

/** The whole `-h` text, ending with a newline. */
export function formatHelp(spec: CommandSpec): string {
  const parts = [
    usage(spec).join("\n"),
    spec.description.trimEnd(),
    spec.options.map(optionRow).join("\n"),
    ...(spec.notes ? [spec.notes.trimEnd()] : []),
    "Examples:\n" + examples(spec.examples),
  ];
  return parts.join("\n\n") + `\nSee ${spec.manual ?? `${spec.name}(1)`}.\n`;
}

/**
 * The usage lines: per form, the flags as one group, each valued option as
 * `[-x value]`, long-only flags, then the form's own text. Options any form
 * names itself are left to it.
 */
export function usage(spec: CommandSpec): string[] {
  const named = new Set<string>();
  for (const form of spec.synopsis) {
    for (const m of form.matchAll(/(?:^|[\s[|])-(-[a-z][a-z-]*|[A-Za-z])\b/g)) named.add(m[1]);
  }
  const free = spec.options.filter((o) =>
    !(o.short !== undefined && named.has(o.short)) && !(o.long !== undefined && named.has(`-${o.long}`))
  );
  // Not localeCompare: loading the collator costs more than the rest of -h.
  const byLetter = (a: OptionDecl, b: OptionDecl) => letterOrder(a.short!) < letterOrder(b.short!) ? -1 : 1;
  const flags = free.filter((o) => o.short && o.value === undefined).sort(byLetter);
  const groups = [
    ...(flags.length ? [`[-${flags.map((o) => o.short).join("")}]`] : []),
    ...free.filter((o) => o.short && o.value !== undefined).sort(byLetter).map((o) =>
      `[-${o.short} ${o.value}]`
    ),
    ...free.filter((o) => !o.short).map((o) => `[${optionLabel(o)}]`),
  ];
  return spec.synopsis.map((form, i) => {
    const lead = `${i === 0 ? "Usage:" : "      "} ${spec.name} `;
    return wrap(lead, [...groups, ...(form ? [form] : [])]);
  });
}

/** Sorts a letter before the next one, an upper case letter before its lower case. */
function letterOrder(letter: string): string {
  return letter.toLowerCase() + (letter === letter.toLowerCase() ? "1" : "0");
}

/** `lead` then the words, continued under the first word past {@linkcode WIDTH}. */
function wrap(lead: string, words: string[]): string {
  const indent = " ".repeat(lead.length);
  let line = lead;
  const lines: string[] = [];
  for (const w of words) {
    if (line.length > indent.length && line.length + 1 + w.length > WIDTH) {
      lines.push(line.trimEnd());
      line = indent;
    }
    line += (line.length > indent.length ? " " : "") + w;
  }
  lines.push(line);
  return lines.join("\n");
}

/** How an option is written in the list: `-o k=v`, `-d home ...`, `-h, --help`, `--json`, `--libvirt[=URI]`. */
export function optionLabel(o: OptionDecl): string {
  const value = o.value === undefined ? "" : o.operands ? ` ${o.value} ...` : ` ${o.value}`;
  if (o.short === undefined) {
    const optional = o.optionalValue === undefined ? "" : `[=${o.optionalValue}]`;
    return `--${o.long}${o.value === undefined ? optional : `=${o.value}`}`;
  }
  return `-${o.short}${value}${o.long === undefined ? "" : `, --${o.long}`}`;
}

function optionRow(o: OptionDecl): string {
  const label = `  ${optionLabel(o)}`;
  const pad = " ".repeat(HELP_COLUMN);
  const first = label.length + 2 <= HELP_COLUMN
    ? label.padEnd(HELP_COLUMN) + o.help
    : `${label}\n${pad}${o.help}`;
  const more = o.more ? o.more.trimEnd().split("\n").map((l) => pad + l) : [];
  return [first, ...more].join("\n");
}

function examples(list: CommandSpec["examples"]): string {
  const width = Math.max(...list.map(([cmd]) => cmd.length)) + 2;
  return list.map(([cmd, what]) => `  ${cmd.padEnd(width)}${what}`).join("\n");
}
