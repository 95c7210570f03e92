/**
 * The fork tree a VM belongs to: up the `parent` lines to the root, then
 * down the children lists. Each home's settings file and children list is
 * read once, so the cost grows with the size of the tree, not its depth.
 * @module
 */
import { VmError } from "../errors.ts";
import { assignments, type SettingsFile } from "../settings/file.ts";
import { VmHome } from "./home.ts";
import { samePlace } from "./links.ts";

/** One VM of a tree. */
export interface TreeNode {
  /** The home (absolute). */
  home: string;
  /** Its name: `vm_name` as its own file or the nearest ancestor's sets it, else the directory's name. */
  name: string;
  /** The VM the tree was asked for. */
  current: boolean;
  /** The VMs its children list names, in its order (a missing one as a leaf with a `problem`). */
  children: TreeNode[];
  /** What is wrong with this link, if anything (a listed child that is gone or names another parent). */
  problem?: string;
}

/**
 * The whole tree of the VM at `start`. `limit` bounds the depth
 * (`cfg_limit_nesting`); a loop is an error naming the home.
 */
export function familyTree(start: VmHome, limit: number): TreeNode {
  const tool = start.tool;
  const files = new Map<string, SettingsFile>();
  const read = (h: VmHome) => {
    let f = files.get(h.path);
    if (!f) files.set(h.path, f = h.readFile());
    return f;
  };
  // Up to the root.
  const up: VmHome[] = [start];
  for (;;) {
    const top = up[up.length - 1];
    const parent = top.parent(read(top));
    if (parent === undefined || !VmHome.isHome(parent, tool)) break;
    if (up.some((h) => h.path === parent)) throw new VmError(`parent loop: ${parent} is its own ancestor`);
    if (up.length > limit) {
      throw new VmError(`${start.path}: parent chain deeper than cfg_limit_nesting=${limit}`);
    }
    up.push(new VmHome(parent, tool));
  }
  const seen = new Set<string>();
  const build = (home: VmHome, inheritedName: string | undefined, depth: number): TreeNode => {
    seen.add(home.path);
    const own = ownName(read(home));
    const node: TreeNode = {
      home: home.path,
      name: own ?? inheritedName ?? home.name,
      current: home.path === start.path,
      children: [],
    };
    for (const child of home.children()) {
      if (seen.has(child)) {
        throw new VmError(`${home.childsPath}: ${child} is listed twice, or is its own ancestor`);
      }
      if (depth >= limit) throw new VmError(`${start.path}: tree deeper than cfg_limit_nesting=${limit}`);
      if (!VmHome.isHome(child, tool)) {
        node.children.push({ home: child, name: child, current: false, children: [], problem: "missing" });
        continue;
      }
      const c = new VmHome(child, tool);
      const sub = build(c, own ?? inheritedName, depth + 1);
      if (!samePlace(c.parent(read(c)), home.path)) sub.problem = "its parent line names another VM";
      node.children.push(sub);
    }
    return node;
  };
  const root = up[up.length - 1];
  // A name set above the root does not exist: the root starts from its own.
  return build(root, undefined, 0);
}

/** Every node of a tree, parents before children. */
export function* walk(node: TreeNode): Generator<TreeNode> {
  yield node;
  for (const c of node.children) yield* walk(c);
}

function ownName(file: SettingsFile): string | undefined {
  let name: string | undefined;
  for (const [k, v] of assignments(file)) if (k === "vm_name" && v !== "") name = v;
  return name;
}
