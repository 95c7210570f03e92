/**
 * Which setting names vmtools knows, to warn about a misspelled one
 * (`vm_ram_sise`) instead of taking it silently: the built-in defaults,
 * the numbered families (`vm_networking_ifaceN_*`, `vm_storage_hddN_*`,
 * `vm_storage_cdromN_*`, `vm_shareN_*`, any N), the names reserved for users
 * (`vm_custom_*`, `cfg_custom_*`), and the names modules declare.
 * Custom names stay allowed: an unknown name is a warning, never an error.
 * @module
 */
import { nearest } from "../nearest.ts";
import { DEFAULTS } from "./defaults.ts";
import { describeOrigin, type Origin, type Settings } from "./settings.ts";

/** Names the tool sets itself, beside the defaults. */
const COMPUTED = ["vm_home"];

const FAMILIES: readonly { re: RegExp; names: (n: string) => string[] }[] = [
  {
    re: /^vm_networking_iface(\d+)_(?:enable|device|mac|mode|hostfwd)$/,
    names: (n) => ["enable", "device", "mac", "mode", "hostfwd"].map((w) => `vm_networking_iface${n}_${w}`),
  },
  {
    re: /^vm_storage_hdd(\d+)_(?:enable|backend|createsize)$/,
    names: (n) => ["enable", "backend", "createsize"].map((w) => `vm_storage_hdd${n}_${w}`),
  },
  {
    re: /^vm_storage_cdrom(\d+)_(?:enable|backend)$/,
    names: (n) => ["enable", "backend"].map((w) => `vm_storage_cdrom${n}_${w}`),
  },
  {
    re: /^vm_share(\d+)_(?:path|tag|security)$/,
    names: (n) => ["path", "tag", "security"].map((w) => `vm_share${n}_${w}`),
  },
];

/**
 * Names declared by modules: exact names, and prefixes (a declared name
 * ending in `*`, such as `vm_rng_*`).
 */
export class DeclaredNames {
  /** Names declared whole, matched exactly. */
  readonly exact = new Set<string>();
  /** Declared prefixes, the `*` dropped (`vm_rng_`): any name starting with one is declared. */
  readonly prefixes: string[] = [];

  /** Adds a declared name or `prefix*`. */
  add(name: string): void {
    if (name.endsWith("*")) this.prefixes.push(name.slice(0, -1));
    else this.exact.add(name);
  }

  /** Whether `name` is declared. */
  has(name: string): boolean {
    return this.exact.has(name) || this.prefixes.some((p) => name.startsWith(p));
  }
}

/** What a module may declare: a setting name, or a prefix (not `vm_` or `cfg_` alone) followed by `*`. */
export const DECLARABLE = /^(?:vm|cfg)_[A-Za-z0-9_]+\*?$/;

/** Whether vmtools itself knows `name` (without asking any module). */
export function isBuiltinName(name: string): boolean {
  return Object.hasOwn(DEFAULTS, name) || name.startsWith("vm_custom_") ||
    name.startsWith("cfg_custom_") || COMPUTED.includes(name) || FAMILIES.some((f) => f.re.test(name));
}

/**
 * The settings of `settings` given by a file or `-o` (not the defaults,
 * nor values vmtools computes) whose names vmtools does not know by
 * itself. Cheap: one lookup per given setting.
 */
export function unknownCandidates(settings: Settings): [string, Origin][] {
  const found: [string, Origin][] = [];
  for (const [name, entry] of settings.entries()) {
    const layer = entry.origin.layer;
    if (layer === "default" || layer === "tool" || isBuiltinName(name)) continue;
    found.push([name, entry.origin]);
  }
  return found;
}

/** The known name nearest to `name`, if one is close enough to be a slip (see {@linkcode nearest}). */
export function nearestName(name: string, declared: DeclaredNames = new DeclaredNames()): string | undefined {
  const numbers = name.match(/\d+/g) ?? ["1"];
  const candidates = new Set([...Object.keys(DEFAULTS), ...COMPUTED, ...declared.exact]);
  for (const n of numbers) for (const f of FAMILIES) for (const c of f.names(n)) candidates.add(c);
  return nearest(name, candidates);
}

/**
 * The warning for an unknown name: `FILE:LINE: unknown setting NAME (did
 * you mean …?)` for a value read from a file, `unknown setting NAME (from
 * command line; did you mean …?)` otherwise.
 */
export function unknownSettingWarning(name: string, origin: Origin, declared?: DeclaredNames): string {
  const near = nearestName(name, declared);
  const hint = near
    ? `did you mean ${near}?`
    : `no known setting is close; names of your own start with ${
      name.startsWith("cfg_") ? "cfg_custom_" : "vm_custom_"
    }`;
  if (origin.file !== undefined && origin.line !== undefined) {
    return `${origin.file}:${origin.line}: unknown setting ${name} (${hint})`;
  }
  return `unknown setting ${name} (from ${describeOrigin(origin)}; ${hint})`;
}
