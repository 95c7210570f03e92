/**
 * What vmup records about a VM it starts, and how a running VM is told from
 * an impostor or a stale file. A running VM is identified by its record (in
 * its home, `cfg_file_record`) and its monitor socket, never by a command
 * line: vmup gives QEMU a secret object named after a random token
 * (`-object secret,id=vmtools-TOKEN`) and writes that token, the pid it
 * spawned and the start time to the record. The socket in a home reaches
 * exactly the QEMU that made it, so a QEMU answering there with the record's
 * token is the one whose pid the record holds; `ps` confirms a pid by its
 * start time when the monitor is not answering.
 *
 * A VM vmup started under libvirt (`--libvirt`) has a record too, naming
 * its libvirt URI and domain; libvirt answering that the domain runs with
 * the record's token in its metadata takes the place of the monitor.
 *
 * vmup also links each record from the user's private runtime directory
 * (`…/vmtools/running/TOKEN`), which is how vmps finds VM homes without a
 * registry and without reading command lines.
 * @module
 */
import type { VmFiles } from "../modules/api.ts";
import type { Forward } from "../qemu/forwards.ts";
import { QmpClient } from "../qmp/client.ts";
import { INDEX_DIR_NAME, runtimeBase } from "./runtime_dir.ts";
import { processStarts, sameStart } from "./process.ts";
import { exists, realPathOr } from "../fs.ts";
import { isLocalUri } from "../libvirt/virsh.ts";
import type { LibvirtRef } from "../libvirt/state.ts";

/** What a record holds. */
export interface RunRecord {
  /** The token QEMU carries as the object `vmtools-TOKEN` (under libvirt: in the domain's metadata). */
  token: string;
  /** QEMU's process id; unknown for a VM under libvirt on another host. */
  pid?: number;
  /** When vmup spawned it, in ms since the epoch. */
  started: number;
  /** The VM's name. */
  name: string;
  /** Where its display is (`vnc://…`, `spice://…`, a window type, `none`). */
  display: string;
  /** The directory it was started from (its home, or a bare boot's runtime directory). */
  dir: string;
  /** Whether `dir` is a bare boot's runtime directory. */
  bare: boolean;
  /** For a bare boot, the absolute path (or URL) of what was booted. */
  source?: string;
  /** The image files and devices its drives use (absolute), to name it when another VM needs one. */
  images?: string[];
  /** Its serial console socket; `null` when vmtools serves none (absent in records of older versions). */
  serial?: string | null;
  /** The file its serial output goes to (vmtools' log or a `-serial file:` of the user's); `null`: none. */
  log?: string | null;
  /** The port forwards QEMU set up, as QEMU reported them (ports it picked included). */
  forwards?: Forward[];
  /** For a VM vmup started under libvirt (`--libvirt`): where, and as which domain. */
  libvirt?: LibvirtRef;
}

const MAX_RECORD_BYTES = 64 * 1024;
const TOKEN = /^[0-9a-f]{32}$/;

/** A fresh random token. */
export function newToken(): string {
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The QEMU arguments that give a VM its token. */
export function tokenArgs(token: string): string[] {
  return ["-object", `secret,id=vmtools-${token},data=vmtools`];
}

/** Writes the record of a VM just started, and links it from the user's runtime directory. */
export function writeRecord(files: VmFiles, record: RunRecord): void {
  const tmp = `${files.record}.tmp-${Deno.pid}`;
  Deno.writeTextFileSync(tmp, JSON.stringify(record) + "\n", { mode: 0o600 });
  Deno.renameSync(tmp, files.record);
  // Another vmtools may remove the emptied index directory in between: retry once.
  for (let attempt = 0; attempt < 2; attempt++) {
    const index = indexDir();
    if (!index) return;
    try {
      Deno.symlinkSync(files.dir, `${index}/${record.token}`);
      return;
    } catch { /* try again, then give up: vmps will not list it, vmdown HOME still works */ }
  }
}

/** Removes a record and its link, when they still describe `token`. */
export function removeRecord(files: VmFiles, token?: string): void {
  const rec = readRecord(files);
  if (token !== undefined && rec && rec.token !== token) return;
  const t = token ?? rec?.token;
  try {
    Deno.removeSync(files.record);
  } catch { /* already gone */ }
  if (t) unlinkIndexed(t);
}

/** Reads the record in a VM's directory; `undefined` when there is none or it is malformed. */
export function readRecord(files: VmFiles): RunRecord | undefined {
  try {
    const info = Deno.lstatSync(files.record);
    if (!info.isFile || info.size > MAX_RECORD_BYTES) return undefined;
    const r = JSON.parse(Deno.readTextFileSync(files.record));
    const libvirt = libvirtRef(r?.libvirt);
    // Another host is asked only about a VM this user started from this home: a record from
    // someone else must not make vmtools connect (as the user, over ssh) wherever it says.
    if (libvirt && !isLocalUri(libvirt.uri) && !startedFrom(String(r.token), files.dir)) return undefined;
    const ok = r && typeof r.token === "string" && TOKEN.test(r.token) &&
      (Number.isInteger(r.pid) && r.pid > 0 || (r.pid === undefined && libvirt)) &&
      Number.isFinite(r.started) &&
      typeof r.name === "string" && typeof r.display === "string" && typeof r.dir === "string";
    return ok
      ? {
        ...r,
        libvirt,
        bare: r.bare === true,
        source: typeof r.source === "string" ? r.source : undefined,
        images: Array.isArray(r.images) ? r.images.filter((i: unknown) => typeof i === "string") : [],
        serial: pathOrNull(r.serial),
        log: pathOrNull(r.log),
        forwards: Array.isArray(r.forwards) ? r.forwards.filter(isForward) : [],
      }
      : undefined;
  } catch {
    return undefined;
  }
}

/** A string, `null`, or `undefined` for anything else (a field an older version did not write). */
function pathOrNull(v: unknown): string | null | undefined {
  return typeof v === "string" || v === null ? v : undefined;
}

function isForward(f: unknown): f is Forward {
  const x = f as Record<string, unknown>;
  return typeof x === "object" && x !== null && (x.protocol === "tcp" || x.protocol === "udp") &&
    typeof x.host === "string" && typeof x.guest === "string" && Number.isInteger(x.hostPort) &&
    Number.isInteger(x.guestPort) && (x.iface === null || Number.isInteger(x.iface));
}

/** Where a VM's serial output can be read. */
export interface SerialOutputs {
  /** vmtools' serial console socket (`vm_serial_mode=socket`), else `null`. */
  serial: string | null;
  /** The file the output goes to: vmtools' log (modes `socket` and `log`) or a `-serial file:PATH` of the user's. */
  log: string | null;
}

/**
 * The serial socket and log of a running VM from its record; a record of an
 * older vmtools did not keep them: then the files in its directory.
 */
export function recordedOutputs(rec: RunRecord, files: VmFiles): SerialOutputs {
  return {
    serial: rec.serial !== undefined ? rec.serial : isOwnSocket(files.serial) ? files.serial : null,
    log: rec.log !== undefined ? rec.log : exists(files.serialLog) ? files.serialLog : null,
  };
}

/** A record's `libvirt` part, when it is well formed. */
function libvirtRef(v: unknown): LibvirtRef | undefined {
  const r = v as Partial<LibvirtRef> | undefined;
  return r && typeof r.uri === "string" && typeof r.domain === "string" && typeof r.uuid === "string" &&
      /^[0-9a-f-]{36}$/i.test(r.uuid)
    ? { uri: r.uri, uuid: r.uuid, domain: r.domain }
    : undefined;
}

/** The VM directories linked from the user's runtime directory, by token. */
export function indexedDirs(): Map<string, string> {
  const out = new Map<string, string>();
  const index = indexDir(false);
  if (!index) return out;
  try {
    for (const e of Deno.readDirSync(index)) {
      if (!TOKEN.test(e.name)) continue;
      try {
        out.set(e.name, Deno.readLinkSync(`${index}/${e.name}`));
      } catch { /* raced with its removal */ }
    }
  } catch { /* no VM started yet */ }
  return out;
}

/** The running VMs vmtools started (as far as their records and `ps` tell), with their records. */
export function recordedVms(files: (dir: string) => VmFiles): RunRecord[] {
  const out: RunRecord[] = [];
  for (const [token, dir] of indexedDirs()) {
    const rec = readRecord(files(dir));
    if (rec && rec.token === token) out.push(rec);
  }
  return out;
}

/** Whether the user's runtime index links `token` to the directory `dir`: a VM the user started there. */
function startedFrom(token: string, dir: string): boolean {
  const index = indexDir(false);
  if (!index || !TOKEN.test(token)) return false;
  try {
    return realPathOr(Deno.readLinkSync(`${index}/${token}`)) === realPathOr(dir);
  } catch {
    return false;
  }
}

/** Drops the link of a token whose VM is gone. */
export function unlinkIndexed(token: string): void {
  const index = indexDir(false);
  if (!index || !TOKEN.test(token)) return;
  try {
    Deno.removeSync(`${index}/${token}`);
    Deno.removeSync(index); // only when it is empty: the runtime directory stays tidy
  } catch { /* already gone, or other VMs run */ }
}

function indexDir(create = true): string | undefined {
  try {
    const dir = `${runtimeBase()}/${INDEX_DIR_NAME}`;
    if (create) Deno.mkdirSync(dir, { mode: 0o700, recursive: true });
    return dir;
  } catch {
    return undefined;
  }
}

/** Whether `path` is a socket itself (not a symbolic link a foreign home could point anywhere). */
export function isOwnSocket(path: string): boolean {
  try {
    return Deno.lstatSync(path).isSocket === true;
  } catch {
    return false;
  }
}

/** A running VM as its record and its monitor or process confirm it. */
export interface RunningHome {
  /** What vmup wrote when it started the VM (pid, token, display, …). */
  record: RunRecord;
  /**
   * How it was confirmed: its monitor answered with its token, only `ps`
   * saw its pid, or libvirt runs its domain with its token.
   */
  confirmedBy: "monitor" | "process" | "libvirt";
}

/**
 * The VM running from `files.dir`, if any: its record, confirmed by its
 * monitor answering with the record's token, or — when the monitor does not
 * answer — by `ps` showing the recorded pid as a QEMU (`prefix`) started
 * when the record says.
 */
export async function runningFrom(
  files: VmFiles,
  prefix: string,
  timeoutMs = 2000,
): Promise<RunningHome | undefined> {
  const record = readRecord(files);
  if (!record) return undefined;
  if (record.libvirt) {
    const { libvirtAnswer } = await import("../libvirt/state.ts");
    const answer = await libvirtAnswer(record.libvirt, record.token);
    return answer === "match" ? { record, confirmedBy: "libvirt" } : undefined;
  }
  if (record.pid === undefined) return undefined;
  const answer = await monitorToken(files.monitor, record.token, timeoutMs);
  if (answer === "match") return { record, confirmedBy: "monitor" };
  if (answer === "other") return undefined;
  const proc = (await processStarts([record.pid])).get(record.pid);
  if (proc && proc.program.startsWith(prefix) && sameStart(proc.started, record.started)) {
    return { record, confirmedBy: "process" };
  }
  return undefined;
}

/**
 * Asks the monitor at `path` whether its QEMU carries `token`: `match`,
 * `other` (a QEMU answers, but not that one), or `silent` (no socket, or
 * nobody answers).
 */
export async function monitorToken(
  path: string,
  token: string,
  timeoutMs = 2000,
): Promise<"match" | "other" | "silent"> {
  if (!isOwnSocket(path)) return "silent";
  let qmp: QmpClient | undefined;
  try {
    qmp = await QmpClient.connect(path, { timeoutMs });
    return await hasToken(qmp, token, timeoutMs) ? "match" : "other";
  } catch {
    return "silent";
  } finally {
    qmp?.close();
  }
}

/** Whether the QEMU behind `qmp` carries `token`. */
export async function hasToken(qmp: QmpClient, token: string, timeoutMs = 2000): Promise<boolean> {
  const objects = await qmp.execute<{ name: string }[]>("qom-list", { path: "/objects" }, { timeoutMs });
  return objects.some((o) => o.name === `vmtools-${token}`);
}
