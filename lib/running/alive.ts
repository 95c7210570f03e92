/**
 * Whether a VM still runs, asked again and again while something waits on
 * it (its serial log): cheap for vmup's own QEMUs (their monitor socket
 * listens), and for a VM vmup started under libvirt, libvirt's answer.
 * @module
 */
import type { VmFiles } from "../modules/api.ts";
import { isListening } from "./process.ts";
import { readRecord } from "./record.ts";

/**
 * Whether the VM of `files` runs: libvirt runs the domain its record names
 * with its token (a libvirt that cannot be asked just now counts as yes),
 * or else something listens on its monitor socket.
 */
export async function isAlive(files: VmFiles): Promise<boolean> {
  const record = readRecord(files);
  if (record?.libvirt) {
    const { libvirtAnswer } = await import("../libvirt/state.ts");
    return await libvirtAnswer(record.libvirt, record.token).catch(() => "match") === "match";
  }
  return await isListening(files.monitor);
}
