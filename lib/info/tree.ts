/**
 * The tree part of `vminfo` (`-t`): the fork tree drawn with box-drawing
 * characters (or ASCII), `*` marking the VM asked about and `R` the running
 * ones; in long form each VM's home; in JSON a nested object.
 * @module
 */
import type { TreeNode } from "../home/tree.ts";

/** How to draw. */
export interface TreeStyle {
  /** Draw with `|--` and `` `-- `` instead of box-drawing characters (`vminfo -a`). */
  ascii: boolean;
  /** Put each VM's home after its name (`vminfo -l`). */
  long: boolean;
  /** Whether the VM in this home runs. */
  running(home: string): boolean;
}

const UTF8 = { branch: "├── ", last: "└── ", pipe: "│   ", space: "    " };
const ASCII = { branch: "|-- ", last: "`-- ", pipe: "|   ", space: "    " };

/** The tree as text, one VM a line. */
export function formatTree(root: TreeNode, style: TreeStyle): string {
  const g = style.ascii ? ASCII : UTF8;
  const lines: string[] = [];
  const line = (node: TreeNode, prefix: string) => {
    const marks = `${node.current ? "*" : ""}${style.running(node.home) ? "R" : ""}`;
    const parts = [node.name + (marks ? ` ${marks}` : "")];
    if (style.long) parts.push(node.home);
    if (node.problem) parts.push(`(${node.problem})`);
    lines.push(prefix + parts.join("  "));
  };
  const down = (node: TreeNode, indent: string) => {
    node.children.forEach((c, i) => {
      const last = i === node.children.length - 1;
      line(c, indent + (last ? g.last : g.branch));
      down(c, indent + (last ? g.space : g.pipe));
    });
  };
  line(root, "");
  down(root, "");
  return lines.join("\n") + "\n";
}

/** A tree as plain data for `--json`. */
export interface TreeJson {
  /** Its name: its own `vm_name`, the nearest ancestor's, or the directory's name. */
  name: string;
  /** The home (absolute). */
  home: string;
  /** Whether this is the VM `vminfo` was asked about. */
  current: boolean;
  /** Whether it runs now. */
  running: boolean;
  /** What is wrong with its link to its parent (`missing`, …); absent when nothing is. */
  problem?: string;
  /** Its children, in the order its children list names them. */
  children: TreeJson[];
}

/** The tree as nested objects. */
export function treeJson(node: TreeNode, running: (home: string) => boolean): TreeJson {
  const out: TreeJson = {
    name: node.name,
    home: node.home,
    current: node.current,
    running: running(node.home),
    children: node.children.map((c) => treeJson(c, running)),
  };
  if (node.problem) out.problem = node.problem;
  return out;
}
