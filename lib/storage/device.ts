/**
 * A look at a block device before QEMU gets it. Deno lets no restricted
 * program stat anything below `/dev` or read `/proc/self/mountinfo`, so two
 * small programs that start no others look for vmtools:
 *
 * - `lsblk` tells that the path is a block device with media, its
 *   kernel read-only flag, its owner, group and mode (for messages), and
 *   what sits on it: a mounted file system or active swap on it or on any
 *   partition of it, or a device-mapper, RAID or other holder.
 * - `test -r` and `test -w` ask the kernel (access(2)) whether the user may
 *   read and write it, so supplementary groups, ACLs (a desktop's `uaccess`
 *   on a USB stick) and capabilities count as QEMU will find them; `-w`
 *   ignores the kernel's read-only flag, lsblk's column covers it.
 *
 * What is left to QEMU: opening it, and its own image locks (a device used
 * by another QEMU). A device mounted after this look is not noticed.
 * @module
 */
import { VmError } from "../errors.ts";
import { run } from "../spawn.ts";
import type { Logger } from "../ui/log.ts";

/** What the look found. */
export interface DeviceState {
  /** The path as given (possibly a link such as /dev/disk/by-id/…). */
  path: string;
  /** The user may read it. */
  readable: boolean;
  /** The user may write it and the kernel does not hold it read-only. */
  writable: boolean;
  /** Why it is not writable, for messages. */
  why?: string;
  /** Mount points on it or its partitions, and what holds it: reasons to keep off it. */
  inUse: string[];
  /** `owner:group mode`, for messages. */
  owner: string;
}

/**
 * One device in lsblk's JSON tree (`lsblk --json --output
 * PATH,TYPE,RO,MOUNTPOINT,OWNER,GROUP,MODE`); exported for the tests, which
 * feed {@linkcode parseBlockTree} trees by hand.
 */
export interface BlockNode {
  /** The device node, e.g. `/dev/sda1`. */
  path?: string;
  /** lsblk's TYPE: `disk`, `part`, `loop`, `rom`, `lvm`, `crypt`, `raid1`, … */
  type?: string;
  /** Whether the kernel holds it read-only: a boolean, or `"0"`/`"1"` from older lsblk. */
  ro?: boolean | string;
  /** Where it is mounted, `[SWAP]` for active swap; null or absent when not mounted. */
  mountpoint?: string | null;
  /** The owner's user name. */
  owner?: string;
  /** The group's name. */
  group?: string;
  /** The permissions as `ls -l` shows them, e.g. `brw-rw----`. */
  mode?: string;
  /** Its partitions and whatever is built on it (device-mapper, RAID). */
  children?: BlockNode[];
}

/** Looks at the block device `path`; throws a {@linkcode VmError} when it is none. */
export async function lookAtDevice(path: string, log: Logger): Promise<DeviceState> {
  const args = ["--json", "--output", "PATH,TYPE,RO,MOUNTPOINT,OWNER,GROUP,MODE", "--", path];
  log.at(5, `lsblk ${args.join(" ")}`);
  const r = await run("lsblk", args, { env: { LC_ALL: "C.UTF-8" } });
  const top: BlockNode | undefined = r.code === 0 ? JSON.parse(r.stdout).blockdevices?.[0] : undefined;
  if (!top) {
    if (!(await passes("-e", path, log))) throw new VmError(`${path}: no such file or directory`);
    const said = r.stderr.trim().split("\n").pop()?.replace(/^lsblk: /, "");
    throw new VmError(
      said
        ? `${said.startsWith(path) ? "" : `${path}: `}${said}`
        : `${path}: not a block device with media (a loop device with no file attached, an empty drive?)`,
    );
  }
  const state = parseBlockTree(path, top);
  state.readable = await passes("-r", path, log);
  if (!(await passes("-w", path, log))) {
    state.writable = false;
    state.why ??= `you may not write it: ${state.owner}`;
  }
  return state;
}

/** The state lsblk's tree `top` shows for `path` (readable until `test -r` says otherwise). */
export function parseBlockTree(path: string, top: BlockNode): DeviceState {
  const readOnly = top.ro === true || top.ro === "1";
  const state: DeviceState = {
    path,
    readable: true,
    writable: !readOnly,
    inUse: [],
    owner: `${top.owner ?? "?"}:${top.group ?? "?"} ${top.mode ?? "?"}`,
  };
  if (readOnly) state.why = "the kernel holds it read-only";
  const walk = (node: BlockNode, depth: number) => {
    const name = node.path ?? "?";
    if (node.mountpoint) {
      state.inUse.push(
        node.mountpoint === "[SWAP]" ? `swap on ${name}` : `${name} is mounted on ${node.mountpoint}`,
      );
    }
    // Below the device: partitions are its own; anything else (dm, md, lvm, crypt) holds it.
    if (depth > 0 && node.type !== "part") state.inUse.push(`${name} (${node.type}) is built on it`);
    for (const child of node.children ?? []) walk(child, depth + 1);
  };
  walk(top, 0);
  return state;
}

/** Whether `test FLAG path` succeeds: the kernel's answer to access(2) for this user. */
async function passes(flag: "-e" | "-r" | "-w", path: string, log: Logger): Promise<boolean> {
  log.at(5, `test ${flag} ${path}`);
  return (await run("test", [flag, path])).code === 0;
}
