/**
 * A settings file as a list of lines, so that updates keep the user's
 * comments, blank lines and ordering. Parsing reports the file and line of
 * the first mistake; writing goes through a temporary file and a rename.
 * @module
 */
import { VmError } from "../errors.ts";
import { checkStorable, quote, readExtended, SyntaxError } from "./syntax.ts";

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
  kind: FileKind;
  lines: Line[];
}

/** A mistake in a settings file, located by file and line. */
export class SettingsError extends VmError {
  constructor(readonly file: string, readonly line: number, reason: string) {
    super(`${file}:${line}: ${reason}`);
  }
}

const NAME = /^[A-Za-z0-9_]+$/;

/** Parses `text`; `path` is only used in error messages. */
export function parseSettings(
  text: string,
  path: string,
  kind: FileKind,
): SettingsFile {
  const lines: Line[] = [];
  let parents = 0;
  text.replace(/\n$/, "").split("\n").forEach((raw, index) => {
    const fail = (reason: string): never => {
      throw new SettingsError(path, index + 1, reason);
    };
    const body = raw.replace(/\r$/, "").trimStart();
    if (raw === "" && index === 0 && text === "") return;
    if (body === "" || body.startsWith("#")) {
      lines.push({ kind: "text", raw });
      return;
    }
    const directive = /^(template|parent)[ \t]+(.*)$/.exec(body);
    if (directive?.[1] === "template") {
      if (kind === "conf") fail("'template' is not allowed in vmtools.conf");
      const names = directive[2].replace(/[ \t]+#.*$/, "").trim().split(
        /[ \t]+/,
      );
      for (const n of names) {
        if (!NAME.test(n)) {
          fail(`bad template name '${n}' (letters, digits and _ only)`);
        }
      }
      lines.push({ kind: "template", raw, names });
      return;
    }
    if (directive?.[1] === "parent") {
      if (kind !== "vm") {
        fail("'parent' is only allowed in a VM's settings file");
      }
      if (++parents > 1) fail("'parent' given more than once");
      const [path, tail] = readValue(
        directive[2],
        fail,
        body.length - directive[2].length,
      );
      if (path === "") fail("'parent' needs a path");
      lines.push({ kind: "parent", raw, path });
      void tail;
      return;
    }
    const eq = body.indexOf("=");
    if (eq < 0) fail(`expected 'name=value', 'template NAME' or 'parent PATH'`);
    const name = body.slice(0, eq);
    if (!NAME.test(name)) {
      fail(
        /\s/.test(name) ? "no spaces allowed around '='" : `bad setting name '${name}'`,
      );
    }
    if (!name.startsWith("cfg_") && !name.startsWith("vm_")) {
      fail(`setting '${name}' must start with 'cfg_' or 'vm_'`);
    }
    if (name.startsWith("cfg_") && kind !== "conf") {
      fail(`tool setting '${name}' is only allowed in vmtools.conf or with -o`);
    }
    const [value, tail] = readValue(body.slice(eq + 1), fail, eq + 1);
    lines.push({ kind: "set", raw, name, value, tail });
  });
  return { path, kind, lines };
}

/** Reads an extended string followed by nothing, blanks, or a `# comment`. */
function readValue(
  text: string,
  fail: (reason: string) => never,
  offset: number,
): [string, string] {
  try {
    const [value, used] = readExtended(text);
    const tail = text.slice(used);
    if (/^[ \t]/.test(text)) fail("no spaces allowed around '='");
    if (tail !== "" && !/^[ \t]*(#.*)?$/.test(tail)) {
      fail(`unexpected text after the value at column ${offset + used + 1}`);
    }
    return [value, tail];
  } catch (e) {
    if (e instanceof SyntaxError) {
      fail(`${e.message} (column ${offset + e.column})`);
    }
    throw e;
  }
}

/** Reads and parses a file; a missing file is an error naming it. */
export function readSettingsFile(path: string, kind: FileKind): SettingsFile {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new VmError(`${path}: no such settings file`);
    }
    throw new VmError(`${path}: cannot read: ${(e as Error).message}`);
  }
  return parseSettings(text, path, kind);
}

/** Reads a file when it exists, else returns `undefined`. */
export function readSettingsFileIfAny(
  path: string,
  kind: FileKind,
): SettingsFile | undefined {
  try {
    return parseSettings(Deno.readTextFileSync(path), path, kind);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    if (e instanceof SettingsError) throw e;
    throw new VmError(`${path}: cannot read: ${(e as Error).message}`);
  }
}

/** The values a file assigns, in order (a later assignment wins). */
export function assignments(file: SettingsFile): [string, string][] {
  return file.lines.flatMap((l) => l.kind === "set" ? [[l.name, l.value] as [string, string]] : []);
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
  if (value !== undefined) checkStorable(value);
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

/** Writes a file atomically: a temporary file beside it, then a rename. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${Deno.pid}`;
  try {
    Deno.writeTextFileSync(tmp, text);
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch { /* it was never created */ }
    throw new VmError(`${path}: cannot write: ${(e as Error).message}`);
  }
}

/** Writes `file` back to its path atomically. */
export function saveFile(file: SettingsFile): void {
  writeFileAtomic(file.path, formatSettings(file));
}
