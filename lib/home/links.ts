/**
 * How one VM home refers to another (a `parent` line, a `childs.lst` line)
 * or to a disk in another (a backing file): relative where one lies below
 * the other, so that a whole tree moves with a plain `mv`; absolute
 * otherwise, so that it survives the move of either side alone.
 * @module
 */
import { realPathOr } from "../fs.ts";
import { isWithin, relative, resolve } from "../path.ts";

/**
 * The path to write in `from` (a home, or the directory of an image) for
 * `to`: relative when one of `from` and `to` lies within the other, else
 * absolute.
 */
export function linkPath(from: string, to: string): string {
  return isWithin(from, to) || isWithin(to, from) ? relative(from, to) : resolve(to);
}

/**
 * The backing-file path to store in an overlay in `childHome` for the image
 * `backing` of the VM in `parentHome`: relative when the child lies within
 * the parent and the image within the parent too (a tree that moves as one
 * directory), absolute otherwise.
 */
export function backingLink(childHome: string, parentHome: string, backing: string): string {
  return isWithin(parentHome, childHome) && isWithin(parentHome, backing)
    ? relative(childHome, backing)
    : resolve(backing);
}

/** The absolute path a link written in `from` points to. */
export function followLink(from: string, link: string): string {
  return resolve(link, from);
}

/**
 * Whether the link target `link` (absolute, or none) is the home `home`:
 * the same path, or the same directory reached another way (a symbolic link
 * in one of them, as when a tree is used through another path).
 */
export function samePlace(link: string | undefined, home: string): boolean {
  return link !== undefined && (link === home || realPathOr(link) === realPathOr(home));
}
