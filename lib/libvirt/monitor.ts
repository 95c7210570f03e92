/**
 * vmmon for a VM under libvirt: its human monitor through `virsh
 * qemu-monitor-command --hmp`, and its serial console through `virsh
 * console` (the console is a pseudo-terminal, which only a terminal can
 * drive; Deno may not open one under `/dev` itself).
 * @module
 */
import { VmError } from "../errors.ts";
import {
  type HmpReply,
  isQuit,
  isRefusal,
  type MonitorRunner,
  normalizeOutput,
  parseHelp,
} from "../monitor/hmp.ts";
import type { VmTarget } from "../running/locate.ts";
import { readRecord } from "../running/record.ts";
import { spawn } from "../spawn.ts";
import { activeDomains, libvirtAnswer, type LibvirtRef } from "./state.ts";
import { checkUri, virsh, virshError } from "./virsh.ts";

/** A VM under libvirt as vmmon reaches it. */
export interface LibvirtTarget {
  /** Where the domain runs (connection URI) and which it is. */
  ref: LibvirtRef;
  /** The token of vmup's run, which the domain's metadata was found to carry. */
  token: string;
}

/**
 * The domain of the VM at `target` when vmup started it under libvirt and
 * libvirt still runs it; a `VmError` when the record names a domain that
 * no longer runs. `undefined` for any other VM.
 */
export async function libvirtTarget(target: VmTarget): Promise<LibvirtTarget | undefined> {
  const record = readRecord(target.files);
  if (!record?.libvirt) return undefined;
  if (await libvirtAnswer(record.libvirt, record.token) !== "match") {
    throw new VmError(`${target.label}: not running (libvirt at ${record.libvirt.uri} no longer runs it)`);
  }
  return { ref: record.libvirt, token: record.token };
}

/** Runs HMP command lines in a domain's QEMU through libvirt. */
export class LibvirtHmpRunner implements MonitorRunner {
  /** `ref` names the domain; `label` names the VM in messages. */
  constructor(readonly ref: LibvirtRef, readonly label: string) {}

  async check(): Promise<string> {
    const { output } = await this.run("info version");
    return output.trim().split(/\s+/)[0] ?? "";
  }

  async run(line: string): Promise<HmpReply> {
    const { uri, uuid, domain } = this.ref;
    const r = await virsh(uri, ["qemu-monitor-command", "--hmp", uuid, line]);
    if (r.code !== 0) {
      if (isQuit(line)) return { output: "", ended: true, refused: false };
      if (!(await activeDomains(uri).catch(() => new Set([uuid]))).has(uuid)) {
        throw new VmError(`${this.label}: not running (libvirt at ${uri} no longer runs domain '${domain}')`);
      }
      throw virshError(uri, r.stderr);
    }
    // virsh ends the monitor's text with a line break of its own.
    const output = normalizeOutput(r.stdout).replace(/\n$/, "");
    return { output, ended: isQuit(line), refused: isRefusal(output) };
  }

  async commandNames(subcommandsOf = ""): Promise<string[]> {
    try {
      const { output } = await this.run(subcommandsOf || "help");
      return parseHelp(output, subcommandsOf);
    } catch {
      return [];
    }
  }
}

/** Attaches this terminal to the domain's serial console (`virsh console`; Ctrl-] leaves); returns virsh's status. */
export async function attachConsole(ref: LibvirtRef, label: string, terminal: boolean): Promise<number> {
  if (!terminal) {
    throw new VmError(
      `${label} runs under libvirt: its serial console needs a terminal (virsh console); vmmon -f shows its output`,
    );
  }
  const child = spawn("virsh", ["-c", checkUri(ref.uri), "console", ref.uuid], {
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  });
  return (await child.status).code;
}
