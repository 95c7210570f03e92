/**
 * Port forwards of user-mode networking (QEMU's `hostfwd`): the rules a VM's
 * settings give (`vm_networking_ifaceN_hostfwd`), what QEMU set up (HMP
 * `info usernet`, which shows the port the system picked for a host port 0),
 * the hint a `ps` command line gives for a QEMU started by hand, and the
 * message for a host port QEMU could not listen on.
 * @module
 */
import { VmError } from "../errors.ts";
import type { QmpClient } from "../qmp/client.ts";
import type { Settings } from "../settings/settings.ts";

/** One port forward: connections to `host:hostPort` on the host reach `guest:guestPort` in the guest. */
export interface Forward {
  /** The N of `vm_networking_ifaceN`; `null` when not known (a QEMU started by hand). */
  iface: number | null;
  /** The protocol forwarded; a rule without one forwards `tcp`. */
  protocol: "tcp" | "udp";
  /** The host address listened on; `0.0.0.0` for every address. */
  host: string;
  /** The host port; `0` in a rule asks the system for a free one. */
  hostPort: number;
  /** The guest address; `""` when the rule leaves it to QEMU (the guest's DHCP address). */
  guest: string;
  /** The guest port, 1 to 65535. */
  guestPort: number;
}

/** QEMU's rule syntax: `[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport`. */
const RULE = /^(tcp|udp)?:((?:\d{1,3}\.){3}\d{1,3})?:(\d{1,5})-((?:\d{1,3}\.){3}\d{1,3})?:(\d{1,5})$/;

/** Parses one rule; `undefined` when it is not one (ports out of range included). */
export function parseRule(rule: string, iface: number | null = null): Forward | undefined {
  const m = RULE.exec(rule);
  if (!m) return undefined;
  const hostPort = Number(m[3]), guestPort = Number(m[5]);
  if (hostPort > 65535 || guestPort < 1 || guestPort > 65535) return undefined;
  return {
    iface,
    protocol: (m[1] ?? "tcp") as "tcp" | "udp",
    host: m[2] ?? "0.0.0.0",
    hostPort,
    guest: m[4] ?? "",
    guestPort,
  };
}

/** A forward as a rule in QEMU's syntax: `tcp:127.0.0.1:2222-10.0.2.15:22` (`-:22` without guest address). */
export function formatForward(f: Forward): string {
  return `${f.protocol}:${f.host}:${f.hostPort}-${f.guest}:${f.guestPort}`;
}

/** The interface numbers N whose `vm_networking_ifaceN_enable` is yes, in order. */
export function enabledIfaces(settings: Settings): number[] {
  return settings.entries()
    .map(([name]) => /^vm_networking_iface(\d+)_enable$/.exec(name)?.[1])
    .filter((n): n is string => n !== undefined && settings.bool(`vm_networking_iface${n}_enable`))
    .map(Number)
    .sort((a, b) => a - b);
}

/**
 * The forwards the settings ask for: each enabled interface's
 * `vm_networking_ifaceN_hostfwd` rules, and `hostfwd=` options of its mode.
 * Malformed rules are left out (starting the VM names them).
 */
export function configuredForwards(settings: Settings): Forward[] {
  const out: Forward[] = [];
  for (const n of enabledIfaces(settings)) {
    const mode = settings.get(`vm_networking_iface${n}_mode`) || settings.get("vm_networking_default_mode");
    const fromMode = mode.split(",").filter((o) => o.startsWith("hostfwd=")).map((o) => o.slice(8));
    const own = settings.get(`vm_networking_iface${n}_hostfwd`).split(/\s+/).filter(Boolean);
    for (const rule of [...fromMode, ...own]) {
      const f = parseRule(rule, n);
      if (f) out.push(f);
    }
  }
  return out;
}

/**
 * The forwards in HMP `info usernet` output: its `TCP[HOST_FORWARD]` and
 * `UDP[HOST_FORWARD]` rows, each under its `Hub -1 (ndN):` heading, in
 * QEMU's order (TCP first).
 */
export function parseUsernet(text: string): Forward[] {
  const out: Forward[] = [];
  let iface: number | null = null;
  for (const line of text.split(/\r?\n/)) {
    const hub = /^\S.*\((.*)\):\s*$/.exec(line);
    if (hub) {
      const n = /^nd(\d+)$/.exec(hub[1])?.[1];
      iface = n === undefined ? null : Number(n);
      continue;
    }
    const m = /^\s*(TCP|UDP)\[HOST_FORWARD\]\s+\d+\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\b/.exec(line);
    if (!m) continue;
    out.push({
      iface,
      protocol: m[1].toLowerCase() as "tcp" | "udp",
      host: m[2] === "*" ? "0.0.0.0" : m[2],
      hostPort: Number(m[3]),
      guest: m[4],
      guestPort: Number(m[5]),
    });
  }
  return out;
}

/** Whether a QEMU command line sets up forwards at all (so that asking QEMU is worth a round trip). */
export function hasForwards(args: readonly string[]): boolean {
  return args.some((a) => /(?:^|,)hostfwd=/.test(a));
}

/** Asks QEMU which forwards it set up; `undefined` when it does not say. */
export async function queryForwards(qmp: QmpClient, timeoutMs = 3000): Promise<Forward[] | undefined> {
  try {
    const text = await qmp.execute<string>(
      "human-monitor-command",
      { "command-line": "info usernet" },
      { timeoutMs },
    );
    return typeof text === "string" ? parseUsernet(text) : undefined;
  } catch {
    return undefined;
  }
}

/** The forwards a `ps` command line shows (a hint, for a QEMU vmtools did not start). */
export function forwardsFromArgs(args: string): Forward[] {
  const out: Forward[] = [];
  for (const m of args.matchAll(/(?:^|[ ,])hostfwd=([^ ,]+)/g)) {
    const f = parseRule(m[1]);
    if (f) out.push(f);
  }
  return out;
}

/**
 * QEMU's "Could not set up host forwarding rule 'RULE'" as one line naming
 * the host address and port and the setting that asks for it; `undefined`
 * for any other error. QEMU does not say why; a port in use is by far the
 * most common reason, the others are named too.
 */
export function forwardError(e: unknown, settings: Settings): VmError | undefined {
  const m = /Could not set up host forwarding rule '([^']*)'/i.exec(String(e));
  if (!m) return undefined;
  const rule = m[1];
  const f = parseRule(rule);
  const setting = settingOf(rule, settings);
  const where = setting ? ` (${setting})` : "";
  if (!f) return new VmError(`port forward '${rule}'${where}: QEMU could not set it up`);
  const address = `${f.host}:${f.hostPort}`;
  // A rule without a host address listens on every address: there is no address to be wrong.
  const others = [
    /^(?:tcp|udp)?::/.test(rule) ? undefined : `${f.host} is not an address of this host`,
    f.hostPort > 0 && f.hostPort < 1024 && Deno.uid() !== 0 ? "ports below 1024 need privileges" : undefined,
  ].filter(Boolean);
  return new VmError(
    `host port ${address} (${f.protocol}) of the forward '${rule}'${where} is already in use` +
      (others.length ? ` (or ${others.join("; ")})` : "") +
      `; choose another port, or 0 to let the system pick a free one`,
  );
}

/** The setting whose value holds `rule`, and the file and line it comes from, for messages. */
function settingOf(rule: string, settings: Settings): string | undefined {
  for (const [name, entry] of settings.entries()) {
    if (!/^vm_networking_(?:iface\d+|default)_(?:hostfwd|mode)$/.test(name)) continue;
    if (!entry.value.split(/[\s,]+/).some((w) => w === rule || w === `hostfwd=${rule}`)) continue;
    const { file, line } = entry.origin;
    return file !== undefined ? `${name}, ${file}:${line}` : name;
  }
  return undefined;
}
