/**
 * The append form of the module lists (`cfg_modules_*`): a list whose
 * elements all start with `+` or `-` changes the list it inherits instead
 * of replacing it, so that adding one module does not mean copying every
 * default name (and losing the built-ins a later version adds).
 *
 * - `+name` adds `name` at the end;
 * - `+name@other` adds `name` just before `other`, which must be in the list;
 * - `-name` removes `name`, which must be in the list.
 *
 * A name that is added while already in the list moves, so each name stays
 * once. The elements apply from left to right.
 * @module
 */
import { excerpt, formatList, parseList } from "./syntax.ts";

/** Whether `name` is one of the module lists that take the append form. */
export function isModuleList(name: string): boolean {
  return name.startsWith("cfg_modules_");
}

/** Why a list change cannot apply: the reason, without the setting's name. */
export class ListEditError extends Error {
  /** Names the class in stack traces and `String(err)` (a subclass would say `Error`). */
  override name = "ListEditError";
}

const EDIT = /^([+-])([A-Za-z0-9_]+)(?:@([A-Za-z0-9_]+))?$/;

/**
 * Applies `value` to the inherited list `current` when `value` is in the
 * append form; returns `undefined` when `value` is a plain list, which
 * replaces. Throws {@linkcode ListEditError} for a malformed change, a
 * mix of changes and plain names, or a name that is not there to remove or
 * to place before.
 */
export function editModuleList(current: string, value: string): string | undefined {
  let items: string[];
  try {
    items = parseList(value);
  } catch {
    return undefined; // not a list at all: reported where it is read
  }
  const signed = items.filter((i) => i.startsWith("+") || i.startsWith("-"));
  if (signed.length === 0) return undefined;
  if (signed.length < items.length) {
    const plain = items.find((i) => !signed.includes(i))!;
    throw new ListEditError(
      `'${
        excerpt(plain)
      }' is a plain name among +/- changes: give only changes (+name, -name) or the whole list`,
    );
  }
  let list: string[];
  try {
    list = parseList(current);
  } catch {
    list = []; // the inherited value is malformed: reported where it is read
  }
  const shown = () => list.length ? `'${excerpt(list.join(" "), 300)}'` : "empty";
  for (const item of items) {
    const m = EDIT.exec(item);
    if (!m || (m[1] === "-" && m[3] !== undefined)) {
      throw new ListEditError(
        `'${excerpt(item)}' is not a change: write +NAME, +NAME@BEFORE or -NAME (letters, digits and _)`,
      );
    }
    const [, sign, name, before] = m;
    if (sign === "-") {
      if (!list.includes(name)) {
        throw new ListEditError(`cannot remove '${name}': not in the list (${shown()})`);
      }
      list = list.filter((n) => n !== name);
      continue;
    }
    list = list.filter((n) => n !== name);
    if (before === undefined) {
      list.push(name);
      continue;
    }
    const at = list.indexOf(before);
    if (at < 0) {
      throw new ListEditError(
        `cannot add '${name}' before '${before}': '${before}' is not in the list (${shown()})`,
      );
    }
    list.splice(at, 0, name);
  }
  return formatList(list);
}
