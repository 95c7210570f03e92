/**
 * Extended strings, the value syntax of settings files: bare characters
 * `[A-Za-z0-9_./-]`, single-quoted runs, and `\'` for a quote, glued
 * together (`'John'\''s VM'`). Lists are extended strings separated by
 * blanks.
 * @module
 */

const BARE = /^[A-Za-z0-9_./-]+$/;
// Read leniently: these cannot be mistaken for anything else, so a hand-edited
// `backend=rw:/x` is accepted. The writer still quotes them.
const READ_BARE = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:+,@%=-") {
  READ_BARE[c.charCodeAt(0)] = 1;
}

/** Why a string could not be read, with the column (1-based) at fault. */
export class SyntaxError extends Error {
  /** `column` is where reading failed, counted from 1 in the string read. */
  constructor(message: string, readonly column: number) {
    super(message);
  }
}

/** Quotes `value` so that {@linkcode unquote} reads it back unchanged. */
export function quote(value: string): string {
  checkStorable(value);
  if (BARE.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * Throws when `value` holds a character no settings file can store: a line
 * end (a carriage return is one on its own) or NUL.
 */
export function checkStorable(value: string): void {
  if (/[\n\r\0]/.test(value)) {
    throw new SyntaxError(
      "newline, carriage return and NUL are not allowed in values",
      1,
    );
  }
}

/** `text` cut short for a message when it is long. */
export function excerpt(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max)}... (${text.length} characters)`;
}

/**
 * Reads one extended string at the start of `text`; returns the value and
 * how many characters it used. Stops at a blank or `#` outside quotes.
 * Linear in the length read.
 */
export function readExtended(text: string, from = 0): [string, number] {
  const parts: string[] = [];
  let i = from;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c < 128 && READ_BARE[c]) {
      let end = i + 1;
      while (end < text.length && text.charCodeAt(end) < 128 && READ_BARE[text.charCodeAt(end)]) end++;
      parts.push(text.slice(i, end));
      i = end;
    } else if (c === 0x27 /* ' */) {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new SyntaxError("unterminated quote", i + 1);
      const run = text.slice(i + 1, end);
      const bad = run.search(/[\n\0]/);
      if (bad >= 0) {
        throw new SyntaxError(
          `${run[bad] === "\0" ? "NUL" : "newline"} is not allowed, not even quoted`,
          i + 2 + bad,
        );
      }
      parts.push(run);
      i = end + 1;
    } else if (c === 0x5c /* \ */) {
      if (text[i + 1] !== "'") {
        throw new SyntaxError(
          "a backslash may only escape a quote (\\')",
          i + 1,
        );
      }
      parts.push("'");
      i += 2;
    } else if (c === 0x20 || c === 0x09 || c === 0x23 /* blank, tab, # */) {
      break;
    } else {
      throw new SyntaxError(
        c === 0
          ? "NUL is not allowed, not even quoted"
          : `${describeChar(c, text[i])} must be inside single quotes`,
        i + 1,
      );
    }
  }
  return [parts.join(""), i - from];
}

// Control characters are named, not printed.
function describeChar(code: number, char: string): string {
  if (code >= 0x20 && code !== 0x7f) return `character '${char}'`;
  return `control character U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** Reads a whole extended string; anything left over is an error. */
export function unquote(text: string): string {
  const [value, used] = readExtended(text);
  if (used !== text.length) {
    throw new SyntaxError(`unexpected '${text[used]}'`, used + 1);
  }
  return value;
}

/** Splits a list value into its elements. */
export function parseList(text: string): string[] {
  const items: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === " " || text[i] === "\t") {
      i++;
      continue;
    }
    const [value, used] = readExtended(text, i);
    if (used === 0) throw new SyntaxError(`unexpected '${text[i]}'`, i + 1);
    items.push(value);
    i += used;
  }
  return items;
}

/** Joins list elements, quoting those that need it. */
export function formatList(items: readonly string[]): string {
  return items.map(quote).join(" ");
}
