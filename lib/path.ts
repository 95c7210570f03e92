/**
 * POSIX path helpers. `node:path` would do, but any `node:` import costs
 * about 15 ms at start-up, which every command would pay.
 * @module
 */

/** Joins and normalizes path segments. */
export function join(...parts: string[]): string {
  return normalize(parts.filter((p) => p !== "").join("/"));
}

/** Collapses `.`, `..` and repeated slashes; keeps a leading slash. */
export function normalize(path: string): string {
  const abs = path.startsWith("/");
  const out: string[] = [];
  for (const seg of path.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length && out[out.length - 1] !== "..") out.pop();
      else if (!abs) out.push("..");
    } else out.push(seg);
  }
  const joined = out.join("/");
  return abs ? "/" + joined : joined || ".";
}

/** Makes `path` absolute against `base` (default: the current directory). */
export function resolve(path: string, base = Deno.cwd()): string {
  return normalize(path.startsWith("/") ? path : base + "/" + path);
}

/** The last segment of `path`, ignoring trailing slashes. */
export function basename(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  if (trimmed === "") return path.startsWith("/") ? "/" : "";
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/** Everything before the last segment of `path`. */
export function dirname(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  const i = trimmed.lastIndexOf("/");
  if (i < 0) return ".";
  return i === 0 ? "/" : trimmed.slice(0, i);
}

/** The path from directory `from` to `to`; both are made absolute first. */
export function relative(from: string, to: string): string {
  const a = resolve(from).split("/").filter(Boolean);
  const b = resolve(to).split("/").filter(Boolean);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return [...a.slice(i).map(() => ".."), ...b.slice(i)].join("/") || ".";
}

/** True when `child` is `parent` itself or lies below it. */
export function isWithin(parent: string, child: string): boolean {
  const p = resolve(parent), c = resolve(child);
  return c === p || c.startsWith(p === "/" ? "/" : p + "/");
}

/** The extension of `path` in lower case, without the dot (`""` if none). */
export function extname(path: string): string {
  const base = basename(path);
  const i = base.lastIndexOf(".");
  return i > 0 ? base.slice(i + 1).toLowerCase() : "";
}
