/**
 * The identity part of `vminfo` (`-i`): name and state, and in long form the
 * family links, where to reach the VM, its owner and what it uses.
 * @module
 */
import type { ChainLink } from "../settings/resolve.ts";
import type { Settings } from "../settings/settings.ts";
import { QmpClient } from "../qmp/client.ts";
import { run } from "../spawn.ts";
import { vmFiles } from "../home/files.ts";
import { isVmHome, VmHome } from "../home/home.ts";
import { runningFrom } from "../running/record.ts";
import { formatSection, humanSize, type Row } from "./format.ts";
import { userName } from "../users.ts";
import { configuredForwards, formatForward, type Forward } from "../qemu/forwards.ts";
import type { LibvirtRef } from "../libvirt/state.ts";

/** What `-i` reports; the optional fields come with `-l`. */
export interface Identity {
  /** The VM's `vm_name`. */
  name: string;
  /** The VM home (absolute). */
  home: string;
  /** `RUNNING` or `not running`, as printed. */
  state: "RUNNING" | "not running";
  /** Whether vmup's record shows the VM running: `state` for scripts. */
  running: boolean;
  /** QEMU's process id; `null` when it is not running, or runs under libvirt on another host. */
  pid: number | null;
  /** Port forwards: as QEMU set them up while the VM runs (ports it picked included), else as configured. */
  forwards: Forward[];
  /** The parent's home, or `null` for a root VM. */
  parent?: string | null;
  /** How many VMs its children list names (missing ones included). */
  children?: number;
  /** QEMU's run state (`running`, `paused`, …) when it answers. */
  runState?: string | null;
  /** `vnc://host:port`, `spice://host:port`, a window type, or `none`. */
  display?: string | null;
  /** The QMP socket (`cfg_file_monitor`); absent under libvirt, which keeps QEMU's monitor. */
  monitor?: string;
  /** The serial console socket (`cfg_file_serial`); absent under libvirt, whose console is a pty. */
  serial?: string;
  /** The file the guest's serial output goes to (`cfg_file_seriallog`). */
  serialLog?: string;
  /** Under libvirt (`vmup --libvirt`): `libvirt` and its connection URI; absent for vmup's own QEMU. */
  engine?: "libvirt";
  /** The libvirt connection URI, with `engine`. */
  uri?: string;
  /** Who owns the home: its uid and user name, each `null` when it cannot be found. */
  owner?: { uid: number | null; user: string | null };
  /** CPU use of the QEMU process, in percent. */
  cpuPercent?: number | null;
  /** Virtual memory of the QEMU process, in bytes. */
  memory?: number | null;
  /** Space the home's files take on disk, in bytes (children's homes excluded). */
  diskUse?: number;
}

/** Gathers the identity of the VM at `home`. */
export async function gatherIdentity(
  home: string,
  settings: Settings,
  chain: readonly ChainLink[],
  long: boolean,
): Promise<Identity> {
  const files = vmFiles(home, settings);
  const record = (await runningFrom(files, settings.get("cfg_qemu_cmdprefix")))?.record;
  // Under libvirt on another host, a running VM has no pid here.
  const pid = record?.pid ?? null;
  const id: Identity = {
    name: settings.get("vm_name"),
    home,
    state: record ? "RUNNING" : "not running",
    running: record !== undefined,
    pid,
    forwards: record?.forwards ?? configuredForwards(settings),
  };
  if (!long) return id;
  id.parent = chain.length > 1 ? chain[chain.length - 2].home : null;
  id.children = new VmHome(home, settings).childLinks().length;
  const libvirt = record?.libvirt;
  const live = libvirt
    ? { runState: await libvirtRunState(libvirt), display: record!.display }
    : pid === null
    ? undefined
    : await askQemu(files.monitor);
  id.runState = live?.runState ?? null;
  id.display = live?.display ?? null;
  if (libvirt) {
    // libvirt keeps QEMU's monitor, and its console is a pseudo-terminal (vmmon reaches both).
    id.engine = "libvirt";
    id.uri = libvirt.uri;
  } else {
    id.monitor = files.monitor;
    id.serial = files.serial;
  }
  id.serialLog = files.serialLog;
  id.owner = ownerOf(home);
  const usage = pid === null ? undefined : await processUsage(pid);
  id.cpuPercent = usage?.cpu ?? null;
  id.memory = usage?.memory ?? null;
  id.diskUse = diskUse(home, settings.get("cfg_file_vmsettings"));
  return id;
}

/** The rows of the text form; `long` adds everything beyond name, state and pid. */
export function identityRows(id: Identity, long: boolean): Row[] {
  const rows: Row[] = [
    { key: "name", value: id.name },
    { key: "state", value: id.state },
  ];
  const add = (key: string, value: unknown, comment?: string) => {
    if (value !== undefined && value !== null) {
      rows.push({ key, value: String(value), comment });
    }
  };
  add("pid", id.pid);
  if (id.forwards.length) {
    add("forwards", id.forwards.map(formatForward).join(" "), id.running ? undefined : "as configured");
  }
  if (!long) return rows;
  add("home", id.home);
  add("parent", id.parent ?? "", id.parent ? undefined : "none");
  add("children", id.children);
  add("run_state", id.runState);
  add("display", id.display);
  add("engine", id.engine);
  add("uri", id.uri);
  add("monitor", id.monitor);
  add("serial", id.serial);
  add("serial_log", id.serialLog);
  if (id.owner) {
    const { uid, user } = id.owner;
    add("owner", user ?? uid ?? "?", user ? `uid ${uid}` : undefined);
  }
  add("cpu_percent", id.cpuPercent);
  if (typeof id.memory === "number") {
    add("memory", humanSize(id.memory), "virtual memory of the QEMU process");
  }
  if (id.diskUse !== undefined) {
    add("disk_use", humanSize(id.diskUse), "files in the home, children's homes excluded");
  }
  return rows;
}

/** The text form of the identity part. */
export function formatIdentity(id: Identity, long: boolean): string {
  return formatSection("info", identityRows(id, long));
}

/** QEMU's run state asked through libvirt; `null` when it does not answer. */
async function libvirtRunState(ref: LibvirtRef): Promise<string | null> {
  const { qmp } = await import("../libvirt/state.ts");
  return (await qmp<{ status?: string }>(ref, "query-status"))?.status ?? null;
}

/** Asks the running QEMU for its run state and display; `undefined` when it does not answer. */
async function askQemu(
  monitor: string,
): Promise<{ runState: string | null; display: string | null } | undefined> {
  let qmp: QmpClient | undefined;
  try {
    qmp = await QmpClient.connect(monitor, { timeoutMs: 2000 });
    const status = await qmp.execute<{ status?: string }>("query-status");
    return {
      runState: status.status ?? null,
      display: await displayOf(qmp),
    };
  } catch {
    return undefined;
  } finally {
    qmp?.close();
  }
}

/** Where the display can be reached, from QEMU itself. */
export async function displayOf(qmp: QmpClient): Promise<string | null> {
  const attempt = async <T>(command: string): Promise<T | undefined> => {
    try {
      return await qmp.execute<T>(command, undefined, { timeoutMs: 2000 });
    } catch {
      return undefined;
    }
  };
  const vnc = await attempt<{ enabled: boolean; host?: string; service?: string }>(
    "query-vnc",
  );
  if (vnc?.enabled && vnc.service) {
    return `vnc://${urlHost(vnc.host)}:${vnc.service}`;
  }
  const spice = await attempt<{
    enabled: boolean;
    host?: string;
    port?: number;
    "tls-port"?: number;
  }>("query-spice");
  if (spice?.enabled) {
    const port = spice.port ?? spice["tls-port"];
    return `spice://${urlHost(spice.host)}:${port ?? "?"}`;
  }
  const opts = await attempt<{ type?: string }>("query-display-options");
  return opts?.type ?? null;
}

function urlHost(host: string | undefined): string {
  if (!host) return "?";
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** CPU percent and virtual memory of a process, from `ps`. */
async function processUsage(
  pid: number,
): Promise<{ cpu: number; memory: number } | undefined> {
  try {
    const r = await run("ps", ["-o", "pcpu=,vsz=", "-p", String(pid)], {
      env: { LC_ALL: "C" },
    });
    const m = /^\s*([\d.]+)\s+(\d+)/.exec(r.stdout);
    return m ? { cpu: Number(m[1]), memory: Number(m[2]) * 1024 } : undefined;
  } catch {
    return undefined;
  }
}

/** The owner of the home directory, with the user name from /etc/passwd when listed. */
export function ownerOf(home: string): { uid: number | null; user: string | null } {
  let uid: number | null = null;
  try {
    uid = Deno.statSync(home).uid;
  } catch { /* unknown */ }
  return { uid, user: uid === null ? null : userName(uid) };
}

/**
 * The disk space the files below `home` take (allocated blocks, as `du`
 * counts them, so sparse images count for what they use), without the
 * homes of child VMs living below it and without following links.
 */
export function diskUse(home: string, settingsName: string): number {
  let total = 0;
  const walk = (dir: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      return;
    }
    for (const e of entries) {
      const path = `${dir}/${e.name}`;
      if (e.isSymlink) continue;
      if (e.isDirectory) {
        if (!isVmHome(path, settingsName)) walk(path);
        continue;
      }
      try {
        const info = Deno.lstatSync(path);
        if (!info.isFile) continue;
        total += info.blocks !== null ? info.blocks * 512 : info.size;
      } catch { /* removed meanwhile */ }
    }
  };
  walk(home);
  return total;
}
