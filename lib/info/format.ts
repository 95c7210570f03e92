/**
 * The text form of `vminfo`: one `key=value` line per fact, values quoted as
 * in settings files, an optional `# comment` aligned after them, and a
 * `# section` line before each part.
 * @module
 */
import { quote } from "../settings/syntax.ts";

/** One line of a report. */
export interface Row {
  /** What the line states (`pid`, `vm_name`), left of the `=`. */
  key: string;
  /** The value, unquoted: {@linkcode formatSection} quotes it as settings files do. */
  value: string;
  /** Shown after the value as `# comment`. */
  comment?: string;
}

/** Comments start at this column at most, so one long value does not push every comment away. */
const MAX_COMMENT_COLUMN = 48;

/** Quotes like the settings language; a value it cannot hold (a newline) is shown JSON-quoted. */
export function quoteValue(value: string): string {
  try {
    return quote(value);
  } catch {
    return JSON.stringify(value);
  }
}

/** Formats a section: its `# title` line, then its rows with aligned comments. */
export function formatSection(title: string, rows: readonly Row[]): string {
  const lines = rows.map((r) => `${r.key}=${quoteValue(r.value)}`);
  const width = Math.min(
    MAX_COMMENT_COLUMN,
    Math.max(0, ...lines.filter((_, i) => rows[i].comment).map((l) => l.length)),
  );
  const body = lines.map((l, i) => {
    const comment = rows[i].comment;
    return comment ? `${l.padEnd(width)}  # ${comment}` : l;
  });
  return [`# ${title}`, ...body].join("\n") + "\n";
}

/** A size in bytes for people: `512`, `1.5K`, `20M`, `2.0G` (powers of 1024). */
export function humanSize(bytes: number): string {
  const units = ["", "K", "M", "G", "T", "P"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return String(Math.round(value));
  const text = value < 10 ? value.toFixed(1) : String(Math.round(value));
  return text.replace(/\.0$/, "") + units[unit];
}
