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
  /** Its process id. */
  pid: number;
  /** Its owner: the effective user id. */
  uid: number;
  /** Its owner's name, as `ps` prints it (the uid when the name is unknown or too long). */
  user: string;
  /** Process state letters (`S`, `Sl`, `Z`, …). */
  state: string;
  /** CPU use in percent. */
  cpu: number;
  /** Virtual memory in KiB. */
  vsz: number;
  /** When it started, in ms since the epoch (to the second: `ps` tells no finer). */
  started: number;
  /** The command line, as one string (ps joins arguments with spaces). */
  args: string;
}

/** Lists live processes whose program name starts with `prefix` (zombies excluded). */
export async function listProcesses(prefix: string): Promise<ProcInfo[]> {
  const r = await run("ps", [
    "-e",
    "-ww",
    "-o",
    "pid=,uid=,user:32=,stat=,pcpu=,vsz=,etimes=,args=",
  ], {
    // C numbers, but UTF-8 paths kept as they are (C would show `?`).
    env: { LC_ALL: "C.UTF-8" },
  });
  const now = Date.now();
  const out: ProcInfo[] = [];
  for (const line of r.stdout.split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+([\d.]+)\s+(\d+)\s+(\d+)\s(.*)$/
      .exec(line);
    if (!m || m[4].startsWith("Z")) continue;
    const program = m[8].split(" ")[0];
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
      started: now - Number(m[7]) * 1000,
      args: m[8],
    });
  }
  return out;
}

/**
 * Whether a process that `ps` saw start at `seen` (to the second) is the one
 * that was recorded starting at `recorded`: a process id is reused only by
 * a process started later, and ps rounds elapsed time down by up to 1 s.
 */
export function sameStart(seen: number, recorded: number): boolean {
  return Math.abs(seen - recorded) <= 2000;
}

/** The program name and start time of live processes among `pids` (zombies excluded). */
export async function processStarts(
  pids: readonly number[],
): Promise<Map<number, { program: string; started: number }>> {
  const out = new Map<number, { program: string; started: number }>();
  if (pids.length === 0) return out;
  const r = await run("ps", ["-o", "pid=,stat=,etimes=,comm=", "-p", pids.join(",")]);
  const now = Date.now();
  for (const line of r.stdout.split("\n")) {
    const m = /^\s*(\d+)\s+(\S+)\s+(\d+)\s+(.*)$/.exec(line);
    if (m && !m[2].startsWith("Z")) out.set(+m[1], { program: m[4], started: now - Number(m[3]) * 1000 });
  }
  return out;
}

/**
 * Whether something listens on the unix socket at `path`, a socket itself:
 * a symbolic link (a home from elsewhere pointing at another VM's socket)
 * does not count.
 */
export async function isListening(path: string): Promise<boolean> {
  try {
    if (!Deno.lstatSync(path).isSocket) return false;
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    return true;
  } catch {
    return false;
  }
}
