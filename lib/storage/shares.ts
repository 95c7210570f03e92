/**
 * Shared folders (`vm_shareN_path`, `_tag`, `_security`): host directories
 * the guest mounts through 9p. Each share is read from the settings, its
 * path taken from the home of the VM whose file set it, and checked: it must
 * be a directory, and — since a VM home may come from someone else — a
 * share set by a VM's own settings file (or a parent's) must lie inside that
 * home or below a directory the user allows in `cfg_share_allow`. Shares
 * given with `-S`, `-o`, a `vmtools.conf` or a template are the user's
 * choice and used as given.
 * @module
 */
import { VmError } from "../errors.ts";
import { isInside } from "../fs.ts";
import { resolve } from "../path.ts";
import { describeOrigin, fromVmHome, type Origin, type Settings } from "../settings/settings.ts";
import { backendBase } from "./drives.ts";
import { parseAccess, splitPrefix } from "./inspect.ts";

/** One shared folder. */
export interface Share {
  /** `share1`, `share2`, … */
  name: string;
  /** The N of `vm_shareN_*`. */
  n: number;
  /** `vm_shareN_path` as set (with its `ro:` or `rw:` prefix, if any). */
  value: string;
  /** The directory, absolute. */
  path: string;
  /** What the guest may do: `rw`, or `ro` (the prefix, or `vm_storage_rwmode` `snap`/`ro`). */
  access: "rw" | "ro";
  /** The 9p mount tag the guest names (`vm_shareN_tag`, default `shareN`). */
  tag: string;
  /** QEMU's security model (`vm_shareN_security`, default `mapped-xattr`). */
  security: string;
  /** The commands that mount it in a Linux guest, at `/mnt/TAG`. */
  mount: string;
  /** Where `vm_shareN_path` comes from. */
  origin: Origin;
  /** Why the directory cannot be shared. */
  error?: string;
}

/** QEMU's security models for `-virtfs local`. */
const SECURITY_MODELS: readonly string[] = ["mapped-xattr", "mapped-file", "passthrough", "none"];

/** The security model of a share that sets none: guest owners and modes kept in extended attributes. */
const DEFAULT_SECURITY = "mapped-xattr";

/** QEMU refuses mount tags longer than this (measured on 7.2). */
const TAG_MAX = 31;
const TAG_RE = /^[A-Za-z0-9_.-]+$/;

/** The numbers N of the shares set (a non-empty `vm_shareN_path`), in order. */
export function shareNumbers(settings: Settings): number[] {
  const out: number[] = [];
  for (const [name, { value }] of settings.entries()) {
    const m = /^vm_share(\d+)_path$/.exec(name);
    if (m && value !== "" && Number(m[1]) > 0) out.push(Number(m[1]));
  }
  return out.sort((a, b) => a - b);
}

/**
 * The shares of a VM whose home (or bare boot's runtime directory) is
 * `dir`, in order, each with the reason it cannot be used, if any.
 */
export function listShares(settings: Settings, dir: string): Share[] {
  let cap: "rw" | "ro" = "rw";
  let capError: string | undefined;
  try {
    cap = parseAccess(settings.get("vm_storage_rwmode") || "rw", "vm_storage_rwmode") === "rw" ? "rw" : "ro";
  } catch (e) {
    capError = (e as Error).message;
  }
  const tags = new Map<string, string>();
  return shareNumbers(settings).map((n) => {
    const share = readShare(settings, dir, n, cap);
    share.error ??= capError;
    const other = tags.get(share.tag);
    if (other) share.error ??= `${share.name}: mount tag '${share.tag}' already used by ${other}`;
    else tags.set(share.tag, share.name);
    return share;
  });
}

/** The shares, refusing the first that cannot be used (a {@linkcode VmError}, one line). */
export function checkedShares(settings: Settings, dir: string): Share[] {
  const shares = listShares(settings, dir);
  const bad = shares.find((s) => s.error);
  if (bad) throw new VmError(bad.error);
  return shares;
}

function readShare(settings: Settings, dir: string, n: number, cap: "rw" | "ro"): Share {
  const name = `share${n}`;
  const setting = `vm_share${n}_path`;
  const value = settings.get(setting);
  const origin = settings.origin(setting) ?? { layer: "tool" };
  const [prefix, location] = splitPrefix(value);
  const base = backendBase(settings, setting, dir);
  const share: Share = {
    name,
    n,
    value,
    path: resolve(location, base),
    access: prefix === "ro" || cap === "ro" ? "ro" : "rw",
    tag: settings.get(`vm_share${n}_tag`) || name,
    security: settings.get(`vm_share${n}_security`) || DEFAULT_SECURITY,
    mount: "",
    origin,
  };
  share.mount = guestMountCommand(share);
  const culprit = (setting: string) => culpritOf(setting, settings.origin(setting));
  if (prefix === "snap") {
    share.error = `${culprit(setting)}: a share is read-write or read-only (rw: or ro:), never snap:`;
  } else if (location === "") {
    share.error = `${culprit(setting)}: no directory after the prefix`;
  } else if (share.tag.length > TAG_MAX || !TAG_RE.test(share.tag)) {
    share.error = `${culprit(`vm_share${n}_tag`)}: '${share.tag}' is not a mount tag ` +
      `(1 to ${TAG_MAX} letters, digits, '_', '.' or '-')`;
  } else if (!SECURITY_MODELS.includes(share.security)) {
    share.error = `${culprit(`vm_share${n}_security`)}: '${share.security}': expected ${
      SECURITY_MODELS.join(", ")
    }`;
  } else {
    share.error = problemWith(share.path) ?? untrusted(settings, share, base);
    if (share.error) share.error = `${culprit(setting)}: ${share.error}`;
  }
  return share;
}

/**
 * Checks a directory given with `-S` (relative to the current directory)
 * before anything is done: a {@linkcode VmError} when it cannot be shared.
 */
export function checkShareArgument(spec: string): void {
  const [prefix, location] = splitPrefix(spec);
  if (prefix === "snap") {
    throw new VmError(`-S ${spec}: a share is read-write or read-only (rw: or ro:), never snap:`);
  }
  const problem = location === "" ? "no directory after the prefix" : problemWith(resolve(location));
  if (problem) throw new VmError(`-S: ${problem}`);
}

/** Why `path` cannot be shared: missing, or not a directory. */
function problemWith(path: string): string | undefined {
  try {
    if (Deno.statSync(path).isDirectory) return undefined;
    return `${path}: not a directory`;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return `${path}: no such directory`;
    return `${path}: ${(e as Error).message}`;
  }
}

/**
 * Why a VM's own settings may not share `share.path`: it lies outside the
 * home of the VM whose file set it (`base`), symbolic links followed, and
 * below no directory of `cfg_share_allow`.
 */
function untrusted(settings: Settings, share: Share, base: string): string | undefined {
  if (!fromVmHome(share.origin)) return undefined;
  if (isInside(share.path, base)) return undefined;
  let allowList: string[];
  try {
    allowList = settings.list("cfg_share_allow");
  } catch (e) {
    return (e as Error).message;
  }
  for (const allowed of allowList) {
    if (!allowed.startsWith("/")) {
      return `cfg_share_allow: '${allowed}' is not an absolute path (from ${
        describeOrigin(settings.origin("cfg_share_allow")!)
      })`;
    }
    if (isInside(share.path, allowed)) return undefined;
  }
  return `${share.path}: outside the VM home; the settings of a VM home may share only what lies inside it ` +
    `(allow it with cfg_share_allow in your vmtools.conf, or share it with -S instead)`;
}

/** `FILE:LINE: NAME` for a value read from a file, else `NAME (from …)`. */
function culpritOf(setting: string, origin: Origin | undefined): string {
  if (origin?.file !== undefined && origin.line !== undefined) {
    return `${origin.file}:${origin.line}: ${setting}`;
  }
  if (origin?.layer === "cmdline") return origin.source === "-S" ? "-S" : `${setting} (command line)`;
  return setting;
}

/** The commands that mount `share` in a Linux guest, at `/mnt/TAG`. */
function guestMountCommand(share: Pick<Share, "tag" | "access">): string {
  const ro = share.access === "ro" ? ",ro" : "";
  return `mkdir -p /mnt/${share.tag} && mount -t 9p -o trans=virtio,version=9p2000.L${ro} ${share.tag} /mnt/${share.tag}`;
}
