/**
 * Finding QEMU processes. Deno grants reading /proc only to programs with
 * every permission, so the process table comes from `ps` (one run), and
 * whether a VM still runs from its QMP socket: a live QEMU accepts the
 * connection, a dead or zombie one refuses it.
 * @module
 */
import { run } from "../spawn.ts";

/** A process as `ps` shows it. */
export interface ProcInfo {
  pid: number;
  uid: number;
  user: string;
  /** Process state letters (`S`, `Sl`, `Z`, …). */
  state: string;
  /** CPU use in percent. */
  cpu: number;
  /** Virtual memory in KiB. */
  vsz: number;
  /** The command line, as one string (ps joins arguments with spaces). */
  args: string;
}

/** Lists live processes whose program name starts with `prefix` (zombies excluded). */
export async function listProcesses(prefix: string): Promise<ProcInfo[]> {
  const r = await run("ps", [
    "-e",
    "-ww",
    "-o",
    "pid=,uid=,user:32=,stat=,pcpu=,vsz=,args=",
  ], {
    // C numbers, but UTF-8 paths kept as they are (C would show `?`).
    env: { LC_ALL: "C.UTF-8" },
  });
  const out: ProcInfo[] = [];
  for (const line of r.stdout.split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+([\d.]+)\s+(\d+)\s(.*)$/
      .exec(line);
    if (!m || m[4].startsWith("Z")) continue;
    const program = m[7].split(" ")[0];
    if (!program.slice(program.lastIndexOf("/") + 1).startsWith(prefix)) {
      continue;
    }
    out.push({
      pid: +m[1],
      uid: +m[2],
      user: m[3],
      state: m[4],
      cpu: +m[5],
      vsz: +m[6],
      args: m[7],
    });
  }
  return out;
}

/** Whether something listens on the unix socket at `path`. */
export async function isListening(path: string): Promise<boolean> {
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/** Reads a pid file; `undefined` when missing or malformed. */
export function readPidFile(path: string): number | undefined {
  try {
    const n = Number(Deno.readTextFileSync(path).trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of a VM's QEMU when it runs: its pid file names it and its QMP socket answers. */
export async function runningPid(
  pidFile: string,
  monitor: string,
): Promise<number | undefined> {
  const pid = readPidFile(pidFile);
  return pid !== undefined && await isListening(monitor) ? pid : undefined;
}
