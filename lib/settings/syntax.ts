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
const READ_BARE = /[A-Za-z0-9_./:+,@%=-]/;

/** Why a string could not be read, with the column (1-based) at fault. */
export class SyntaxError extends Error {
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

/** Throws when `value` holds a character no settings file can store. */
export function checkStorable(value: string): void {
  if (/[\n\0]/.test(value)) {
    throw new SyntaxError("newline and NUL are not allowed in values", 1);
  }
}

/**
 * Reads one extended string at the start of `text`; returns the value and
 * how many characters it used. Stops at a blank or `#` outside quotes.
 */
export function readExtended(text: string, from = 0): [string, number] {
  let value = "";
  let i = from;
  while (i < text.length) {
    const c = text[i];
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new SyntaxError("unterminated quote", i + 1);
      value += text.slice(i + 1, end);
      i = end + 1;
    } else if (c === "\\") {
      if (text[i + 1] !== "'") {
        throw new SyntaxError(
          "a backslash may only escape a quote (\\')",
          i + 1,
        );
      }
      value += "'";
      i += 2;
    } else if (c === " " || c === "\t" || c === "#") {
      break;
    } else if (READ_BARE.test(c)) {
      value += c;
      i++;
    } else {
      throw new SyntaxError(
        `character '${c}' must be inside single quotes`,
        i + 1,
      );
    }
  }
  return [value, i - from];
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
