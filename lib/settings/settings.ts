/**
 * The effective settings of a VM or of the tool: a map from name to value,
 * each value remembering the layer it came from, with typed readers whose
 * errors name the setting at fault.
 * @module
 */
import { VmError } from "../errors.ts";
import { readSize } from "./size.ts";
import { excerpt, parseList } from "./syntax.ts";

/** The layers settings come from, lowest precedence first. */
export type Layer =
  | "default"
  | "share"
  | "system"
  | "user"
  | "template"
  | "parent"
  | "vm"
  | "cmdline"
  | "tool";

/** Where a value comes from: the layer and, for files, which one. */
export interface Origin {
  /** The layer that gave the value. */
  layer: Layer;
  /** Template name, parent home, or file path, depending on the layer. */
  source?: string;
  /** The settings file the value was read from, when it was read from one. */
  file?: string;
  /** The line of {@linkcode Origin.file} that gave the value (from 1). */
  line?: number;
  /**
   * For a module list changed by `+name` / `-name` elements rather than
   * replaced: where the list it changed came from. Followed back, these
   * name every layer that made the list what it is.
   */
  amends?: Origin;
}

/**
 * Whether a value comes from a VM home's own settings file or a parent's:
 * files that may come from someone else, unlike the user's configuration,
 * templates and command line.
 */
export function fromVmHome(origin: Origin | undefined): boolean {
  return origin?.layer === "vm" || origin?.layer === "parent";
}

/** A value with its origin. */
export interface Entry {
  /** The value, as a string (lists are blank-separated, quoted where needed). */
  value: string;
  /** Where the value comes from. */
  origin: Origin;
}

/**
 * A set of settings with typed accessors. Modules receive one as
 * `settings`: `get`, `has`, `origin`, `bool`, `int`, `size`, `list` and
 * `entries` read it; the readers throw an error naming the setting, its
 * value and where the value comes from when a value does not fit.
 */
export class Settings {
  #map: Map<string, Entry>;

  /** Settings holding `entries` (none when not given). */
  constructor(entries?: Iterable<[string, Entry]>) {
    this.#map = new Map(entries);
  }

  /** The value of `name`, or `""` when it is not set anywhere. */
  get(name: string): string {
    return this.#map.get(name)?.value ?? "";
  }

  /** Whether any layer sets `name`. */
  has(name: string): boolean {
    return this.#map.has(name);
  }

  /** Where the value of `name` comes from. */
  origin(name: string): Origin | undefined {
    return this.#map.get(name)?.origin;
  }

  /**
   * Sets `name` (the tool's own computations use layer `tool`). Only this
   * set changes: nothing is stored. A buildcmd module may set a value for
   * the modules after it; a configure module stores values with its
   * context's `set`.
   */
  set(name: string, value: string, origin: Origin = { layer: "tool" }): void {
    this.#map.set(name, { value, origin });
  }

  /** Reads a yes/no setting: `yes y true on 1`, `no n false off 0` or empty (no), any case. */
  bool(name: string): boolean {
    const v = this.get(name).toLowerCase();
    if (["yes", "y", "true", "on", "1"].includes(v)) return true;
    if (["no", "n", "false", "off", "0", ""].includes(v)) return false;
    throw this.#bad(name, "yes or no");
  }

  /** Reads a whole number (digits only; empty is refused). */
  int(name: string): number {
    const v = this.get(name);
    if (!/^\d+$/.test(v)) throw this.#bad(name, "a whole number");
    return Number(v);
  }

  /**
   * Reads a size setting into bytes: a plain number is MiB, `K` `M` `G` `T`
   * suffixes as usual (see `size.ts`); a RAM size under 16 MiB is refused.
   */
  size(name: string): number {
    const r = readSize(name, this.get(name));
    if ("reason" in r) throw this.refuse(name, r.reason);
    return r.bytes;
  }

  /** Reads a blank-separated list, each element unquoted (`vm_qemu_params`, `cfg_modules_*`). */
  list(name: string): string[] {
    try {
      return parseList(this.get(name));
    } catch (e) {
      throw this.#bad(name, `a list (${(e as Error).message})`);
    }
  }

  /** Every setting with its value and origin, sorted by name (to find families such as `vm_storage_hddN_*`). */
  entries(): [string, Entry][] {
    return [...this.#map].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
  }

  /** An independent copy. */
  clone(): Settings {
    return new Settings(this.#map);
  }

  #bad(name: string, expected: string): VmError {
    return this.refuse(name, `expected ${expected}`);
  }

  /**
   * An error naming the setting, its value and where the value comes from:
   * `FILE:LINE: setting NAME='VALUE': REASON` for a value read from a file,
   * else `setting NAME='VALUE' (from ORIGIN): REASON`. Modules throw it for
   * a value they cannot use.
   */
  refuse(name: string, reason: string): VmError {
    const o = this.origin(name);
    const value = `setting ${name}='${excerpt(this.get(name))}'`;
    if (o?.file !== undefined && o.line !== undefined && !o.amends) {
      return new VmError(`${o.file}:${o.line}: ${value}: ${reason}`);
    }
    return new VmError(`${value}${o ? ` (from ${describeOrigin(o)})` : ""}: ${reason}`);
  }
}

/**
 * A short human description of an origin, as `vminfo -s -l` shows it; a
 * changed module list names every layer that changed it, oldest first
 * (`default + system /etc/vmtools/vmtools.conf + command line`).
 */
export function describeOrigin(o: Origin): string {
  return o.amends ? `${describeOrigin(o.amends)} + ${describeLayer(o)}` : describeLayer(o);
}

function describeLayer(o: Origin): string {
  switch (o.layer) {
    case "template":
      return `template ${o.source}`;
    case "parent":
      return `parent ${o.source}`;
    case "cmdline":
      return "command line";
    case "share":
    case "system":
    case "user":
      return o.source ? `${o.layer} ${o.source}` : o.layer;
    default:
      return o.layer;
  }
}
