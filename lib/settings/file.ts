/**
 * A settings file as a list of lines, so that updates keep the user's
 * comments, blank lines and ordering. Parsing reports the file and line of
 * the first mistake; writing goes through a temporary file and a rename.
 * @module
 */
import { VmError } from "../errors.ts";
import { readSettingsText } from "./source.ts";
import { excerpt, quote, readExtended, SyntaxError } from "./syntax.ts";

/** What a file is for; it decides which lines are allowed. */
export type FileKind = "conf" | "vm" | "template";

/** One line of a settings file. */
export type Line =
  | { kind: "text"; raw: string }
  | { kind: "set"; raw: string; name: string; value: string; tail: string }
  | { kind: "template"; raw: string; names: string[] }
  | { kind: "parent"; raw: string; path: string };

/** A parsed settings file. */
export interface SettingsFile {
  /** Where it was read from (used in messages and by {@linkcode saveFile}). */
  path: string;
  /** What it is for: `cfg_` settings only in `conf`, `parent` only in `vm`, no `template` line in `conf`. */
  kind: FileKind;
  /** Every line, comments and blank ones included, in order: writing them out gives the file back. */
  lines: Line[];
}

/** A mistake in a settings file, located by file and line. */
export class SettingsError extends VmError {
  /** The message reads `file:line: reason`; `line` counts from 1. */
  constructor(readonly file: string, readonly line: number, reason: string) {
    super(`${file}:${line}: ${reason}`);
  }
}

const NAME = /^[A-Za-z0-9_]+$/;
/** The longest path the system opens (PATH_MAX less the final NUL). */
const MAX_PATH_BYTES = 4095;
/** The longest template name whose file name (`NAME.tpl`) the system allows. */
const MAX_TEMPLATE_NAME = 255 - ".tpl".length;

/**
 * Parses `text`; `path` is only used in error messages. Linear in the size
 * of `text`: every line is scanned a bounded number of times.
 */
export function parseSettings(
  text: string,
  path: string,
  kind: FileKind,
): SettingsFile {
  const cr = loneCarriageReturn(text);
  if (cr >= 0) {
    throw new SettingsError(
      path,
      lineAt(text, cr),
      "carriage return without line feed: settings files use LF (or CR LF) line ends",
    );
  }
  const lines: Line[] = [];
  let parents = 0;
  const raws = text === "" ? [] : (text.endsWith("\n") ? text.slice(0, -1) : text).split("\n");
  raws.forEach((raw, index) => {
    const fail = (reason: string): never => {
      throw new SettingsError(path, index + 1, reason);
    };
    const nul = raw.indexOf("\0");
    if (nul >= 0) fail(`NUL at column ${nul + 1}: not allowed in settings files, not even quoted`);
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const body = line.trimStart();
    // Columns in messages count from the start of the line.
    const indent = line.length - body.length;
    if (body === "" || body.startsWith("#")) {
      lines.push({ kind: "text", raw });
      return;
    }
    const directive = directiveOf(body);
    if (directive === "template") {
      if (kind === "conf") fail("'template' is not allowed in vmtools.conf");
      const names = templateNames(body, directive.length);
      if (!names.length) fail("'template' needs at least one name");
      for (const n of names) {
        if (!NAME.test(n)) {
          fail(`bad template name '${excerpt(n)}' (letters, digits and _ only)`);
        }
        if (n.length > MAX_TEMPLATE_NAME) {
          fail(`template name '${excerpt(n)}' too long (at most ${MAX_TEMPLATE_NAME} characters)`);
        }
      }
      lines.push({ kind: "template", raw, names });
      return;
    }
    if (directive === "parent") {
      if (kind !== "vm") {
        fail("'parent' is only allowed in a VM's settings file");
      }
      if (++parents > 1) fail("'parent' given more than once");
      const from = skipBlanks(body, directive.length);
      const [path] = readValue(body.slice(from), fail, indent + from);
      if (path === "") fail("'parent' needs a path");
      const bytes = new TextEncoder().encode(path).length;
      if (bytes > MAX_PATH_BYTES) {
        fail(`parent path too long (${bytes} bytes, at most ${MAX_PATH_BYTES})`);
      }
      lines.push({ kind: "parent", raw, path });
      return;
    }
    const eq = body.indexOf("=");
    if (eq < 0) fail(`expected 'name=value', 'template NAME' or 'parent PATH'`);
    const name = body.slice(0, eq);
    if (!NAME.test(name)) {
      fail(
        /\s/.test(name) ? "no spaces allowed around '='" : `bad setting name '${excerpt(name)}'`,
      );
    }
    if (!name.startsWith("cfg_") && !name.startsWith("vm_")) {
      fail(`setting '${excerpt(name)}' must start with 'cfg_' or 'vm_'`);
    }
    if (name.startsWith("cfg_") && kind !== "conf") {
      fail(`tool setting '${excerpt(name)}' is only allowed in vmtools.conf or with -o`);
    }
    const [value, tail] = readValue(body.slice(eq + 1), fail, indent + eq + 1);
    lines.push({ kind: "set", raw, name, value, tail });
  });
  return { path, kind, lines };
}

/** The index of the first CR not followed by LF, or -1. */
function loneCarriageReturn(text: string): number {
  for (let i = text.indexOf("\r"); i >= 0; i = text.indexOf("\r", i + 1)) {
    if (text[i + 1] !== "\n") return i;
  }
  return -1;
}

/** The 1-based line number of the character at `index`. */
function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i >= 0 && i < index; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

/** `template` or `parent` when `body` starts with one of them and a blank. */
function directiveOf(body: string): "template" | "parent" | undefined {
  for (const word of ["template", "parent"] as const) {
    if (body.startsWith(word) && isBlank(body[word.length])) return word;
  }
  return undefined;
}

/** The blank-separated words from `from` on, up to a word that starts a `#` comment. */
function templateNames(body: string, from: number): string[] {
  const names: string[] = [];
  let i = skipBlanks(body, from);
  while (i < body.length && body[i] !== "#") {
    let end = i;
    while (end < body.length && !isBlank(body[end])) end++;
    names.push(body.slice(i, end));
    i = skipBlanks(body, end);
  }
  return names;
}

function isBlank(c: string | undefined): boolean {
  return c === " " || c === "\t";
}

function skipBlanks(text: string, from: number): number {
  let i = from;
  while (isBlank(text[i])) i++;
  return i;
}

/**
 * Reads an extended string followed by nothing, blanks, or a `# comment`;
 * `offset` is the column before `text` on its line.
 */
function readValue(
  text: string,
  fail: (reason: string) => never,
  offset: number,
): [string, string] {
  try {
    const [value, used] = readExtended(text);
    if (isBlank(text[0])) fail("no spaces allowed around '='");
    const after = skipBlanks(text, used);
    if (after < text.length && text[after] !== "#") {
      fail(`unexpected text after the value at column ${offset + used + 1}`);
    }
    return [value, text.slice(used)];
  } catch (e) {
    if (e instanceof SyntaxError) {
      fail(`${e.message} (column ${offset + e.column})`);
    }
    throw e;
  }
}

/** Reads and parses a file; a missing file is an error naming it. */
export function readSettingsFile(path: string, kind: FileKind): SettingsFile {
  const f = readSettingsFileIfAny(path, kind);
  if (!f) throw new VmError(`${path}: no such settings file`);
  return f;
}

/**
 * Reads a file when it exists, else returns `undefined`. Refuses, naming
 * the file, anything but a regular file of at most 1 MiB that only its
 * owner may write (see {@linkcode readSettingsText}).
 */
export function readSettingsFileIfAny(
  path: string,
  kind: FileKind,
): SettingsFile | undefined {
  const text = readSettingsText(path);
  return text === undefined ? undefined : parseSettings(text, path, kind);
}

/** The values a file assigns, in order (a later assignment wins). */
export function assignments(file: SettingsFile): [string, string][] {
  return file.lines.flatMap((l) => l.kind === "set" ? [[l.name, l.value] as [string, string]] : []);
}

/** One assignment of a file and the line it stands on (from 1). */
export interface Assignment {
  /** The setting's name. */
  name: string;
  /** The value, unquoted. */
  value: string;
  /** Its line number, from 1. */
  line: number;
}

/**
 * The values a file assigns with their line numbers, in order. A file
 * changed in memory gets the numbers it will have once written.
 */
export function assignmentLines(file: SettingsFile): Assignment[] {
  const found: Assignment[] = [];
  file.lines.forEach((l, i) => {
    if (l.kind === "set") found.push({ name: l.name, value: l.value, line: i + 1 });
  });
  return found;
}

/** The templates a file applies, in order. */
export function templatesOf(file: SettingsFile): string[] {
  return file.lines.flatMap((l) => l.kind === "template" ? l.names : []);
}

/** The `parent` path as written (relative to the VM home), if any. */
export function parentOf(file: SettingsFile): string | undefined {
  for (const l of file.lines) if (l.kind === "parent") return l.path;
  return undefined;
}

/**
 * Sets `name` to `value` in place (keeping a trailing comment), or removes
 * it when `value` is `undefined`. New settings are appended.
 */
export function setValue(
  file: SettingsFile,
  name: string,
  value: string | undefined,
): void {
  if (value !== undefined && /[\n\r\0]/.test(value)) {
    throw new VmError(`${name}: a newline, carriage return or NUL cannot be stored in a settings file`);
  }
  let last = -1;
  file.lines.forEach((l, i) => {
    if (l.kind === "set" && l.name === name) last = i;
  });
  file.lines = file.lines.filter((l, i) =>
    i === last && value !== undefined || !(l.kind === "set" && l.name === name)
  );
  if (value === undefined) return;
  const line: Line = { kind: "set", raw: "", name, value, tail: "" };
  const at = file.lines.findIndex((l) => l.kind === "set" && l.name === name);
  if (at >= 0) {
    line.tail = (file.lines[at] as { tail: string }).tail;
    file.lines[at] = line;
  } else file.lines.push(line);
  line.raw = `${name}=${quote(value)}${line.tail}`;
}

/** Sets or removes the `parent` line (placed after the header comments). */
export function setParent(file: SettingsFile, path: string | undefined): void {
  const at = file.lines.findIndex((l) => l.kind === "parent");
  if (path === undefined) {
    if (at >= 0) file.lines.splice(at, 1);
    return;
  }
  const line: Line = { kind: "parent", raw: `parent ${quote(path)}`, path };
  if (at >= 0) file.lines[at] = line;
  else file.lines.splice(firstContentLine(file), 0, line);
}

/** Adds template names not applied yet, on one `template` line. */
export function addTemplates(
  file: SettingsFile,
  names: readonly string[],
): void {
  const have = new Set(templatesOf(file));
  const fresh = names.filter((n) => !have.has(n));
  if (!fresh.length) return;
  const at = file.lines.findIndex((l) => l.kind === "set");
  const line: Line = {
    kind: "template",
    raw: `template ${fresh.join(" ")}`,
    names: fresh,
  };
  file.lines.splice(at < 0 ? file.lines.length : at, 0, line);
}

function firstContentLine(file: SettingsFile): number {
  const i = file.lines.findIndex((l) => l.kind !== "text" || !l.raw.startsWith("#"));
  return i < 0 ? file.lines.length : i;
}

/** The file's text. */
export function formatSettings(file: SettingsFile): string {
  return file.lines.map((l) => l.raw).join("\n") + "\n";
}

/**
 * Writes a file atomically: a temporary file beside it, then a rename. The
 * result is never writable by group or others, whatever the umask: a new
 * file is created with mode 0644 (which the umask can only narrow), a
 * replaced one keeps its mode less those bits.
 */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${Deno.pid}`;
  try {
    let keep: number | undefined;
    try {
      const mode = Deno.statSync(path).mode;
      if (mode !== null) keep = mode & 0o777 & ~0o022;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    writeNew(tmp, new TextEncoder().encode(text), keep ?? 0o644);
    // The umask may have narrowed a replaced file's mode: restore it.
    if (keep !== undefined) Deno.chmodSync(tmp, keep);
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch { /* it was never created */ }
    throw new VmError(`${path}: cannot write: ${(e as Error).message}`);
  }
}

/**
 * Creates `path` afresh (never reusing a leftover file, whose mode would
 * stay) with `mode` less the umask, and writes `data` to it.
 */
function writeNew(path: string, data: Uint8Array, mode: number): void {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { write: true, createNew: true, mode });
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    Deno.removeSync(path);
    file = Deno.openSync(path, { write: true, createNew: true, mode });
  }
  try {
    for (let n = 0; n < data.length;) n += file.writeSync(data.subarray(n));
  } finally {
    file.close();
  }
}

/** Writes `file` back to its path atomically. */
export function saveFile(file: SettingsFile): void {
  writeFileAtomic(file.path, formatSettings(file));
}
