/**
 * The command links of `vmtools --install-links DIR`: one symbolic link per
 * command name in DIR, leading to the executable. The whole is planned
 * before anything changes, so a name in the way refuses the lot in one
 * line; each link is then made in one atomic step, and an error undoes the
 * links made so far. Names that already lead to the executable are left
 * alone: running it again changes nothing.
 * @module
 */
import { VmError } from "../errors.ts";
import { basename, dirname, join, resolve } from "../path.ts";
import { removeQuietly } from "../remove.ts";

/** What happens to one name. */
export type LinkAction = "make" | "keep" | "replace";

/** One name's step. */
export interface LinkStep {
  /** The command name (`vmup`). */
  name: string;
  /** DIR/name. */
  path: string;
  /** `make` a new link, `keep` one that leads to the executable, or `replace` what is there (`--force`). */
  action: LinkAction;
  /** For `replace`: what is there now, in words (`a file`, `a link to /x`). */
  was?: string;
  /** For `replace` of a symbolic link: its text, put back by an undo. */
  oldLink?: string;
}

/** Everything {@linkcode applyLinks} does, decided up front. */
export interface LinkPlan {
  /** DIR, absolute. */
  dir: string;
  /** Whether DIR (and missing parents) will be made. */
  makeDir: boolean;
  /** The executable, absolute, links resolved. */
  executable: string;
  /** What each link holds: the executable's name when it lies in DIR, else its absolute path. */
  text: string;
  /** One step per command name, in the order the names were given. */
  steps: LinkStep[];
}

/**
 * Plans links `names` in `dir` to `executable` (absolute, links resolved).
 * Throws a one-line {@linkcode VmError}, before any change, when a name is
 * taken by something else (unless `force`), by a directory, or by a path
 * the permission set denies writing.
 */
export function planLinks(
  dir: string,
  executable: string,
  names: readonly string[],
  force: boolean,
): LinkPlan {
  const abs = resolve(dir);
  const info = lstatOrNull(abs);
  if (info && !Deno.statSync(abs).isDirectory) throw new VmError(`${abs}: not a directory`);
  const real = info ? Deno.realPathSync(abs) : abs;
  const text = dirname(executable) === real ? basename(executable) : executable;
  if (!info && !mayWrite(abs)) {
    throw new VmError(
      `nothing linked: vmtools may not write to ${abs} (outside its permission set; see vmtools(7) SECURITY)`,
    );
  }
  const inTheWay: string[] = [], never: string[] = [], denied: string[] = [];
  const steps = names.map((name): LinkStep => {
    const path = join(abs, name);
    const here = lstatOrNull(path);
    if (!here) {
      if (!mayWrite(path)) denied.push(name);
      return { name, path, action: "make" };
    }
    if (realPathOrNull(path) === executable) return { name, path, action: "keep" };
    if (here.isDirectory) {
      never.push(`${name} (a directory)`);
      return { name, path, action: "replace", was: "a directory" };
    }
    const oldLink = here.isSymlink ? Deno.readLinkSync(path) : undefined;
    const was = oldLink !== undefined ? `a link to ${oldLink}` : here.isFile ? "a file" : "a special file";
    if (!force) inTheWay.push(`${name} (${was})`);
    else if (!mayWrite(path)) denied.push(name);
    return { name, path, action: "replace", was, oldLink };
  });
  const why = [
    ...(inTheWay.length ? [`in the way: ${inTheWay.join(", ")} (--force replaces them)`] : []),
    ...(never.length ? [`never replaced: ${never.join(", ")}`] : []),
    ...(denied.length
      ? [
        `vmtools may not write to ${denied.join(", ")} (outside its permission set; see vmtools(7) SECURITY)`,
      ]
      : []),
  ];
  if (why.length) throw new VmError(`nothing linked in ${abs}: ${why.join("; ")}`);
  return { dir: abs, makeDir: !info, executable, text, steps };
}

/**
 * Carries out `plan`. On an error the links it made are removed and the
 * links it replaced put back (a file that `--force` replaced is gone), then
 * the error is thrown again.
 */
export function applyLinks(plan: LinkPlan): void {
  const undo: (() => void)[] = [];
  try {
    if (plan.makeDir) {
      const made = missingDirs(plan.dir);
      Deno.mkdirSync(plan.dir, { recursive: true });
      undo.push(() => made.forEach((d) => removeQuietly(d)));
    }
    for (const step of plan.steps) {
      if (step.action === "make") {
        Deno.symlinkSync(plan.text, step.path);
        undo.push(() => removeQuietly(step.path));
      } else if (step.action === "replace") {
        replaceWithLink(plan.text, step.path);
        if (step.oldLink !== undefined) undo.push(() => replaceWithLink(step.oldLink!, step.path));
      }
    }
  } catch (e) {
    for (const step of undo.reverse()) {
      try {
        step();
      } catch { /* keep undoing the rest */ }
    }
    throw e;
  }
}

/** Puts a link holding `text` at `path` in one rename, so that the name is never missing. */
function replaceWithLink(text: string, path: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.vmtools-${Deno.pid}`);
  removeQuietly(tmp);
  Deno.symlinkSync(text, tmp);
  try {
    Deno.renameSync(tmp, path);
  } catch (e) {
    removeQuietly(tmp);
    throw e;
  }
}

/**
 * Whether the permission set lets vmtools write `path`. Deno checks a
 * symbolic link's creation against whole write permission only, not the
 * paths the set denies (measured on 2.9.6), so the set's word is asked here.
 */
function mayWrite(path: string): boolean {
  return Deno.permissions.querySync({ name: "write", path }).state === "granted";
}

/** The directories from `dir` up that do not exist, deepest first. */
function missingDirs(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; d !== "/" && !lstatOrNull(d); d = dirname(d)) out.push(d);
  return out;
}

function lstatOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

function realPathOrNull(path: string): string | null {
  try {
    return Deno.realPathSync(path);
  } catch {
    return null; // a dangling link, a loop
  }
}
