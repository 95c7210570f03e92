/**
 * `vmup --libvirt`: a VM home started as a transient libvirt domain
 * (`virsh create`), so that nothing stays defined in libvirt once it stops.
 * The home keeps a record as for a QEMU vmup starts itself, naming the URI,
 * the domain and a fresh token the domain carries in its metadata: vmps,
 * vmdown, vmmon and vminfo find it from there (`state.ts`).
 * @module
 */
import type { UpOptions, UpResult } from "../boot/up.ts";
import { VmError } from "../errors.ts";
import type { VmFiles } from "../modules/api.ts";
import { displayUrl, type SpiceInfo, type VncInfo } from "../qemu/display.ts";
import { formatForward, type Forward, hasForwards, parseUsernet } from "../qemu/forwards.ts";
import { removeQuietly } from "../remove.ts";
import { processStarts } from "../running/process.ts";
import {
  newToken,
  removeRecord,
  type RunRecord,
  type SerialOutputs,
  writeRecord,
} from "../running/record.ts";
import type { Settings } from "../settings/settings.ts";
import { checkStorage, StorageFacts } from "../storage/preflight.ts";
import { run } from "../spawn.ts";
import type { Toolbox } from "../toolbox.ts";
import { homeDomain } from "./domain.ts";
import { renderDomain } from "./render.ts";
import type { DomainSpec } from "./spec.ts";
import { type LibvirtRef, qmp } from "./state.ts";
import { defaultUri, isLocalUri, virsh, virshError, virshOk } from "./virsh.ts";

/** What `up.ts` hands over: what to tidy before a start, and the images the drives use. */
export interface UpHooks {
  /** Removes what an earlier run left (record, pid file, sockets). */
  clear(): void;
  /** The image files and devices the drives use (for the record). */
  images(): string[];
}

/**
 * Starts (or with `-n`, prints the domain XML of) the VM at `files.dir`
 * under libvirt at `opts.libvirt` (`""`: the default URI).
 */
export async function upLibvirt(
  settings: Settings,
  files: VmFiles,
  opts: UpOptions,
  tools: Toolbox,
  hooks: UpHooks,
): Promise<UpResult> {
  const { log } = tools;
  const target = opts.libvirt || defaultUri();
  // vmup's own looks at storage (a mounted disk, an unreadable device, a URL that does not open): on this host only.
  const facts = new StorageFacts();
  if (isLocalUri(target)) await checkStorage(settings, settings.get("vm_home") || files.dir, facts, log);
  if (opts.noBoot) {
    const { spec, transient } = await homeDomain(files.dir, settings, tools, { facts });
    for (const f of transient) removeQuietly(f);
    log.output.out(renderDomain(spec));
    return { name: spec.name, files };
  }
  const auto = await settleAuto(settings, target);
  const token = newToken();
  const { spec, transient } = await homeDomain(files.dir, settings, tools, { auto, token, facts });
  const outputs = serialOutputs(spec);
  if (opts.wait && !outputs.log) {
    for (const f of transient) removeQuietly(f);
    throw new VmError(`${spec.name}: no serial log to wait on (vm_serial_mode=none); not started`);
  }
  hooks.clear();
  const ref: LibvirtRef = { uri: target, uuid: spec.uuid, domain: spec.domain };
  const record: RunRecord = {
    token,
    started: Date.now(),
    name: spec.name,
    display: "?",
    dir: files.dir,
    bare: false,
    images: hooks.images(),
    ...outputs,
    libvirt: ref,
  };
  // Written before the domain exists: a vmup killed in between leaves a record vmdown can follow.
  writeRecord(files, record);
  try {
    log.step(`${spec.name}: virsh -c ${target} create (a ${spec.type} domain)`);
    const r = await virsh(target, ["create", "/dev/stdin"], renderDomain(spec));
    if (r.code !== 0) {
      const e = virshError(target, r.stderr);
      if (/already exists/.test(e.message)) {
        e.message += ` (is this VM already running there, started some other way?)`;
      }
      throw e;
    }
  } catch (e) {
    removeRecord(files, token);
    throw e;
  } finally {
    // libvirt has started QEMU, which holds them open.
    for (const f of transient) removeQuietly(f);
  }
  const [proc, display, forwards] = await Promise.all([
    isLocalUri(target) ? qemuProcess(ref) : undefined,
    displayOf(ref, spec),
    forwardsOf(ref, spec),
  ]);
  writeRecord(files, {
    ...record,
    pid: proc?.pid,
    started: proc?.started ?? record.started,
    display,
    forwards,
  });
  log.at(0, `${spec.name}: running under libvirt (${target}), display ${display}`);
  for (const f of forwards) log.at(0, `${spec.name}: port forward ${formatForward(f)}`);
  return { name: spec.name, pid: proc?.pid, display, files, ...outputs, forwards, libvirt: ref };
}

/** Where the guest's serial output goes: never a vmtools console socket (libvirt's is a pseudo-terminal), a log unless none. */
function serialOutputs(spec: DomainSpec): SerialOutputs {
  const s = spec.serial;
  return { serial: null, log: s === undefined ? null : s.type === "file" ? s.path : s.log };
}

/** The port forwards QEMU set up (`info usernet` through libvirt); none asked for, none asked about. */
async function forwardsOf(ref: LibvirtRef, spec: DomainSpec): Promise<Forward[]> {
  if (!hasForwards(spec.qemuArgs)) return [];
  const r = await virsh(ref.uri, ["qemu-monitor-command", "--hmp", ref.uuid, "info usernet"]);
  return r.code === 0 ? parseUsernet(r.stdout) : [];
}

/**
 * What `vm_qemu_accel=auto` stands for at `uri`: KVM where libvirt offers
 * it for the architecture, else TCG. Asking first also makes an unreachable
 * URI one clear error before anything is done.
 */
async function settleAuto(settings: Settings, uri: string): Promise<"kvm" | "qemu" | undefined> {
  await virshOk(uri, ["uri"]);
  if ((settings.get("vm_qemu_accel") || "auto") !== "auto") return undefined;
  const arch = settings.get("vm_qemu_arch") === "i386" ? "i686" : settings.get("vm_qemu_arch");
  const r = await virsh(uri, ["domcapabilities", "--virttype", "kvm", "--arch", arch]);
  return r.code === 0 ? "kvm" : "qemu";
}

/**
 * The domain's QEMU process on this machine: libvirt tells the thread ids
 * of its vCPUs, and `ps` which process a thread belongs to and when that
 * started.
 */
async function qemuProcess(ref: LibvirtRef): Promise<{ pid: number; started: number } | undefined> {
  const cpus = await qmp<{ "thread-id"?: number }[]>(ref, "query-cpus-fast");
  const tid = cpus?.[0]?.["thread-id"];
  if (!Number.isInteger(tid)) return undefined;
  const r = await run("ps", ["-e", "-L", "-o", "pid=,lwp="]);
  const line = r.stdout.split("\n").map((l) => l.trim().split(/\s+/).map(Number)).find(([, lwp]) =>
    lwp === tid
  );
  if (!line) return undefined;
  const started = (await processStarts([line[0]])).get(line[0])?.started;
  return started === undefined ? undefined : { pid: line[0], started };
}

/** Where the domain's display is: the VNC or SPICE address its QEMU reports, a window type, or `none`. */
async function displayOf(ref: LibvirtRef, spec: DomainSpec): Promise<string> {
  const type = spec.graphics?.type;
  if (type === undefined) return "none";
  if (type === "sdl") return "sdl";
  const [vnc, spice] = await Promise.all([
    qmp<VncInfo>(ref, "query-vnc"),
    qmp<SpiceInfo>(ref, "query-spice"),
  ]);
  return displayUrl(vnc, spice) ?? "?";
}
