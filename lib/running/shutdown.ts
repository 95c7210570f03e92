/**
 * Stopping running VMs: the ACPI power button (QMP `system_powerdown`),
 * SIGTERM and SIGKILL, applied in turn to the VMs still running, waiting
 * after each for them to go, then tidying the files they leave behind.
 *
 * A VM has stopped when its QEMU process is gone from `ps` (a zombie counts
 * as gone); one with no known process, when its monitor refuses connections.
 * A VM under libvirt is asked to stop through libvirt (`libvirt/control.ts`)
 * and has stopped when libvirt no longer runs its domain.
 * An open QMP connection closing is the cue to look again at once.
 * @module
 */
import { QmpClient } from "../qmp/client.ts";
import { run } from "../spawn.ts";
import type { Logger } from "../ui/log.ts";
import type { VmFiles } from "../modules/api.ts";
import { removeQuietly } from "../remove.ts";
import { isListening, listProcesses, sameStart } from "./process.ts";
import { removeRecord, unlinkIndexed } from "./record.ts";
import { after } from "../timer.ts";
import type { LibvirtRef } from "../libvirt/state.ts";

/** A way of stopping a VM: `s` power button, `t` SIGTERM, `k` SIGKILL. */
export type Method = "s" | "t" | "k";

/** What applying each method did, as messages say it. */
export const DONE: Record<Method, string> = {
  s: "power button pressed",
  t: "SIGTERM sent",
  k: "SIGKILL sent",
};

/** The order methods are applied in. */
export const METHOD_ORDER: readonly Method[] = ["s", "t", "k"];

const METHOD_NAMES: Record<Method, string> = {
  s: "the power button",
  t: "SIGTERM",
  k: "SIGKILL",
};

/** A running VM to stop. */
export interface ShutdownTarget {
  /** How messages call it (its name, else `pid N`). */
  label: string;
  /** Its QEMU process; without one, signals go through the monitor (`quit`) and SIGKILL is impossible. */
  pid?: number;
  /** When that process started (ms since the epoch): a pid reused by another process is not signalled. */
  started?: number;
  /** Its QMP socket, `""` when none. */
  monitor: string;
  /** How long to wait for it after each method, in ms. */
  timeoutMs: number;
  /** Its runtime files (pid file, sockets, record), removed once it has stopped. */
  files?: VmFiles;
  /** Its record's token: the record is removed only while it still names this VM. */
  token?: string;
  /** A bare boot's runtime directory, removed as a whole once it has stopped. */
  runtimeDir?: string;
  /** For a VM under libvirt: its domain, which every method goes through (its pid is only shown). */
  libvirt?: LibvirtRef;
}

/** How to stop. */
export interface ShutdownOptions {
  /** Methods to use, applied in {@linkcode METHOD_ORDER}. */
  methods: Method[];
  /** Wait for the VMs to stop (always done between methods). */
  wait: boolean;
  /** QEMU's program name prefix, to find its processes in `ps`. */
  prefix: string;
  /** Says what each method did and what is waited for (levels 1 and 2). */
  log: Logger;
}

/** What became of one target. */
export interface ShutdownOutcome {
  /** The VM it is about. */
  target: ShutdownTarget;
  /**
   * Whether it was seen gone (its QEMU left `ps`, or libvirt no longer runs
   * it); its files are tidied then. Without waiting, a VM asked to power
   * down may still be on its way, with no `error`.
   */
  stopped: boolean;
  /** The method last applied to it. */
  by?: Method;
  /** Why it counts as failed; absent on success. */
  error?: string;
}

/** Without `-w`, how long a signal gets to take effect so the files can be tidied. */
const SIGNAL_GRACE_MS = 1000;
/** Polling starts fast (signals act within milliseconds) and slows down. */
const POLL_FIRST_MS = 20;
const POLL_MAX_MS = 250;

interface State {
  target: ShutdownTarget;
  qmp?: QmpClient;
  stopped: boolean;
  by?: Method;
  /** Why the last request could not be delivered. */
  failure?: string;
  /** Why the monitor could not be opened. */
  monitorError?: string;
}

/** Stops `targets`; never throws for one VM's trouble (see each outcome). */
export async function shutdown(
  targets: readonly ShutdownTarget[],
  opts: ShutdownOptions,
): Promise<ShutdownOutcome[]> {
  const methods = METHOD_ORDER.filter((m) => opts.methods.includes(m));
  const wait = opts.wait || methods.length > 1;
  const states: State[] = targets.map((target) => ({ target, stopped: false }));
  try {
    await Promise.all(
      states.filter((s) => methods.includes("s") || s.target.pid === undefined).map((s) => openMonitor(s)),
    );
    await refresh(states, opts.prefix);
    for (const [i, method] of methods.entries()) {
      const alive = states.filter((s) => !s.stopped);
      if (alive.length === 0) break;
      if (i > 0) {
        for (const s of alive) {
          const why = s.failure ??
            `still running after ${METHOD_NAMES[methods[i - 1]]}`;
          opts.log.at(
            2,
            `${s.target.label}: ${why}; trying ${METHOD_NAMES[method]}`,
          );
        }
      }
      await Promise.all(alive.map((s) => apply(s, method)));
      const delivered = alive.filter((s) => s.failure === undefined);
      const limit = (s: State) =>
        wait ? s.target.timeoutMs : method === "s" ? 0 : Math.min(SIGNAL_GRACE_MS, s.target.timeoutMs);
      if (wait) {
        const next = methods[i + 1];
        for (const s of delivered) {
          // Waiting can take a while: say at once for what, and how long.
          opts.log.info(
            `${s.target.label}: ${DONE[method]}; waiting up to ${
              Math.round(limit(s) / 1000)
            } s for it to stop${next ? `, then ${METHOD_NAMES[next]}` : ""}`,
          );
        }
      }
      await waitStopped(delivered, limit, opts.prefix);
      // A failed request may have failed because the VM had just gone.
      await refresh(alive.filter((s) => s.failure !== undefined), opts.prefix);
    }
  } finally {
    for (const s of states) s.qmp?.close();
  }
  const outcomes = states.map((s): ShutdownOutcome => {
    const out: ShutdownOutcome = {
      target: s.target,
      stopped: s.stopped,
      by: s.by,
    };
    if (s.stopped) return out;
    if (s.failure !== undefined) out.error = s.failure;
    else if (wait) {
      out.error = `still running ${Math.round(s.target.timeoutMs / 1000)} s after ${METHOD_NAMES[s.by!]}`;
    }
    return out;
  });
  for (const o of outcomes) if (o.stopped) await tidy(o.target);
  return outcomes;
}

/** Removes what a stopped VM left behind, unless something listens again. */
export async function tidy(target: ShutdownTarget): Promise<void> {
  if (target.monitor && await isListening(target.monitor)) return;
  if (target.token) unlinkIndexed(target.token);
  if (target.runtimeDir) {
    removeQuietly(target.runtimeDir, true);
    return;
  }
  if (!target.files) return;
  removeRecord(target.files, target.token);
  for (const f of [target.files.pid, target.files.monitor, target.files.serial]) removeQuietly(f);
}

async function openMonitor(s: State): Promise<void> {
  if (!s.target.monitor) return;
  try {
    s.qmp = await QmpClient.connect(s.target.monitor, { timeoutMs: 2000 });
  } catch (e) {
    s.monitorError = (e as Error).message;
  }
}

async function apply(s: State, method: Method): Promise<void> {
  s.by = method;
  s.failure = undefined;
  if (s.target.libvirt) {
    const { stopDomain } = await import("../libvirt/control.ts");
    s.failure = await stopDomain(s.target.libvirt, method);
    return;
  }
  if (method === "s") {
    if (!s.qmp || s.qmp.isClosed) {
      s.failure = `cannot press the power button: ${
        s.monitorError ??
          (s.target.monitor
            ? `QEMU monitor ${s.target.monitor}: connection closed`
            : "QEMU has no QMP monitor")
      }`;
      return;
    }
    try {
      await s.qmp.execute("system_powerdown", undefined, { timeoutMs: 5000 });
    } catch (e) {
      s.failure = `system_powerdown failed: ${(e as Error).message}`;
    }
    return;
  }
  if (s.target.pid === undefined) {
    if (method === "t" && s.qmp && !s.qmp.isClosed) {
      // No process id to trust: ask QEMU itself to quit, which is what SIGTERM does.
      await s.qmp.execute("quit", undefined, { timeoutMs: 5000 }).catch(() => {});
      return;
    }
    s.failure = `cannot send ${METHOD_NAMES[method]}: its QEMU process is not known`;
    return;
  }
  const r = await run("kill", [
    method === "t" ? "-TERM" : "-KILL",
    String(s.target.pid),
  ]);
  if (r.code !== 0) {
    s.failure = `kill ${s.target.pid}: ${r.stderr.trim() || `exit ${r.code}`}`;
  }
}

/** Marks the states whose VM has gone. */
async function refresh(states: State[], prefix: string): Promise<void> {
  const underLibvirt = states.filter((s) => s.target.libvirt);
  if (underLibvirt.length) await refreshLibvirt(underLibvirt);
  states = states.filter((s) => !s.target.libvirt);
  if (states.length === 0) return;
  const live = new Map((await listProcesses(prefix)).map((p) => [p.pid, p.started]));
  await Promise.all(states.map(async (s) => {
    const { pid, started } = s.target;
    const seen = pid === undefined ? undefined : live.get(pid);
    const gone = pid !== undefined
      ? seen === undefined || (started !== undefined && !sameStart(seen, started))
      : !(s.target.monitor && await isListening(s.target.monitor));
    if (gone) s.stopped = true;
  }));
}

/** Marks the states whose domain libvirt no longer runs with their token (one listing per URI). */
async function refreshLibvirt(states: State[]): Promise<void> {
  const { activeDomains, libvirtAnswer } = await import("../libvirt/state.ts");
  const active = new Map<string, Promise<Set<string>>>();
  await Promise.all(states.map(async (s) => {
    const ref = s.target.libvirt!;
    if (!active.has(ref.uri)) active.set(ref.uri, activeDomains(ref.uri));
    try {
      s.stopped = (await libvirtAnswer(ref, s.target.token ?? "", await active.get(ref.uri))) !== "match";
    } catch { /* libvirt cannot be asked just now: still running, as far as anyone knows */ }
  }));
}

/** Waits until every state has stopped or reached its own limit. */
async function waitStopped(
  states: State[],
  limitMs: (s: State) => number,
  prefix: string,
): Promise<void> {
  const start = Date.now();
  let interval = POLL_FIRST_MS;
  for (;;) {
    const waiting = states.filter((s) => !s.stopped && Date.now() - start < limitMs(s));
    if (waiting.length === 0) return;
    let cancelTimer: (() => void) | undefined;
    const cues: Promise<unknown>[] = [
      new Promise<void>((r) => cancelTimer = after(interval, r)),
    ];
    for (const s of waiting) {
      if (s.qmp && !s.qmp.isClosed) cues.push(s.qmp.closed);
    }
    await Promise.race(cues);
    cancelTimer?.();
    interval = Math.min(interval * 1.5, POLL_MAX_MS);
    await refresh(waiting, prefix);
  }
}
