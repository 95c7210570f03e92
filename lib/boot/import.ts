/**
 * Machines made elsewhere, given as a new VM's disk (`vmup foo.ova`,
 * `vmcreate -c machine.vmx HOME`). Before the configure modules run, each
 * `.ova` or `.vmx` among the hard disks is read; its name, memory, CPU
 * count and network adapters become the values the questions propose, and
 * its disks take its place in the hard disk slots: an appliance's are
 * converted to qcow2 (QEMU cannot read them inside the archive), a .vmx's
 * are left for `storage_hdd_import` to offer converting, as any vmdk.
 * @module
 */
import { VmError } from "../errors.ts";
import { randomMac } from "../mac.ts";
import { shellQuote } from "../qemu/launch.ts";
import { basename, dirname } from "../path.ts";
import { setValue } from "../settings/file.ts";
import type { Settings } from "../settings/settings.ts";
import { type Drive, enabledDrives, SLOTS } from "../storage/drives.ts";
import { inspectStorage, type StorageRef } from "../storage/inspect.ts";
import type { Machine, MachineDisk } from "../storage/import/machine.ts";
import { convertImage, createImage } from "../storage/qemuimg.ts";
import type { ConfigureJob } from "./configure.ts";
import { exists } from "../fs.ts";

/** Whether a storage reference is a machine description rather than a disk. */
function isMachineRef(ref: StorageRef): boolean {
  return ref.location.kind === "file" && (ref.location.format === "ova" || ref.location.format === "vmx");
}

type Slot = { drive: Drive; machine?: undefined } | { machine: Machine; prefix?: string };

/**
 * Imports the `.ova` and `.vmx` hard disks of `job` into its settings file
 * and updates `job.disks`. Every description is read and checked before
 * anything is made; what is made is a step of `job.change`.
 */
export async function importMachines(job: ConfigureJob): Promise<void> {
  if (!job.disks.some(isMachineRef)) return;
  const settings = job.resolve(job.file);
  const slots: Slot[] = [];
  for (const drive of enabledDrives(settings, job.dir, ["hdd"])) {
    const ref = inspectStorage(drive.backend, drive.base);
    if (!isMachineRef(ref) || ref.location.kind !== "file") {
      slots.push({ drive });
      continue;
    }
    const path = ref.location.path;
    const machine = ref.location.format === "ova"
      ? await (await import("../storage/import/ova.ts")).readOva(path, job.tools.log)
      : (await import("../storage/import/vmx.ts")).readVmx(path);
    slots.push({ machine, prefix: ref.prefix });
  }
  const count = slots.reduce((n, s) => n + (s.machine ? s.machine.disks.length : 1), 0);
  if (count > SLOTS.length) {
    const names = slots.filter((s) => s.machine).map((s) =>
      `${s.machine!.path} (${s.machine!.disks.length})`
    );
    throw new VmError(`too many hard disks: ${count} with ${names.join(", ")}, and a VM has ${SLOTS.length}`);
  }
  const first = slots.find((s) => s.machine)?.machine;
  if (first) propose(job, settings, first);

  const backends: string[] = [];
  const made = new Map<string, string[]>();
  for (const slot of slots) {
    if (!slot.machine) {
      backends.push(slot.drive.backend);
      continue;
    }
    const own: string[] = [];
    for (const [i, disk] of slot.machine.disks.entries()) {
      const path = await diskFor(job, settings, slot.machine, disk, i);
      own.push((slot.prefix ? `${slot.prefix}:` : "") + path);
    }
    made.set(slot.machine.path, own);
    backends.push(...own);
  }
  SLOTS.forEach((n, i) => {
    setValue(job.file, `vm_storage_hdd${n}_enable`, backends[i] === undefined ? undefined : "yes");
    setValue(job.file, `vm_storage_hdd${n}_backend`, backends[i]);
  });
  job.disks = job.disks.flatMap((ref) =>
    isMachineRef(ref) && ref.location.kind === "file"
      ? (made.get(ref.location.path) ?? []).map((b) => inspectStorage(b, job.dir))
      : [ref]
  );
}

/**
 * The backend of one disk of `machine`: a `.vmx`'s image as it is; an
 * appliance's converted (or, empty, created) as qcow2 in the home, or for
 * a bare boot beside the appliance, named after it.
 */
async function diskFor(
  job: ConfigureJob,
  settings: Settings,
  machine: Machine,
  disk: MachineDisk,
  index: number,
): Promise<string> {
  if (disk.kind === "file") return disk.path;
  const { log } = job.tools;
  const dir = job.bare ? dirname(machine.path) : job.dir;
  const stem = basename(machine.path).replace(/\.[^.]*$/, "") || "disk";
  const many = machine.disks.length > 1;
  const what = `${basename(machine.path)}: ${disk.name}`;
  const target = await targetFor(job, dir, many ? `${stem}-disk${index + 1}` : stem, what);
  if (disk.kind === "blank") {
    await createImage(job.change, target, `${Math.max(1, Math.ceil(disk.bytes / 2 ** 20))}M`, log);
    log.info(`created the empty disk ${what} as ${target}`);
  } else {
    await convertImage(job.change, disk.image, target, log, {
      compress: settings.bool("vm_qemu_compress"),
      label: `converting ${disk.name}`,
      name: what,
      bytes: disk.bytes,
    });
    log.info(`converted ${what} to ${target}`);
  }
  return job.bare ? target : target.slice(job.dir.length + 1);
}

/**
 * `DIR/NAME.qcow2`, or when that exists and the user agrees, the first free
 * `NAME-1.qcow2`, `NAME-2.qcow2`…; never over a file, and under `-y`
 * (nobody to agree) an error naming the file.
 */
async function targetFor(job: ConfigureJob, dir: string, name: string, what: string): Promise<string> {
  const preferred = `${dir}/${name}.qcow2`;
  let free = preferred;
  for (let i = 1; exists(free); i++) free = `${dir}/${name}-${i}.qcow2`;
  if (free === preferred) return preferred;
  const { prompter } = job.tools;
  if (prompter.assumeYes) {
    // A second bare boot of the same image meets the first one's conversion: say how to boot that.
    const reuse = job.bare ? `; to boot that earlier conversion, vmup ${shellQuote(preferred)}` : "";
    throw new VmError(
      `${preferred} already exists: not converting ${what} over it (answer the question without -y to pick another name)${reuse}`,
    );
  }
  if (!await prompter.confirm(`Convert ${what} to qcow2 as ${free} (${name}.qcow2 exists)`, true)) {
    throw new VmError(`${what}: not converted, and QEMU cannot read a disk inside an .ova`);
  }
  return free;
}

/**
 * Stores what `machine` says as the values the configure modules propose,
 * except where the user chose (a template, `-o`, the VM file of `vmcreate`).
 * No network adapter proposes none; adapters after the first are enabled,
 * each (in a kept VM) with a MAC of its own.
 */
function propose(job: ConfigureJob, settings: Settings, machine: Machine): void {
  const set = (name: string, value: string | undefined) => {
    if (value === undefined) return;
    const layer = settings.origin(name)?.layer;
    if (layer === "template" || layer === "parent" || layer === "cmdline" || (layer === "vm" && !job.bare)) {
      return;
    }
    setValue(job.file, name, value);
  };
  set("vm_name", machine.name);
  if (machine.cpus) set("vm_cpu_count", String(machine.cpus));
  if (machine.memoryMiB) {
    set("vm_ram_size", machine.memoryMiB % 1024 ? `${machine.memoryMiB}M` : `${machine.memoryMiB / 1024}G`);
  }
  if (machine.nics === 0) set("vm_networking_iface1_enable", "no");
  if (!machine.nics) return;
  set("vm_networking_iface1_mac", machine.mac);
  for (let n = 2; n <= machine.nics; n++) {
    set(`vm_networking_iface${n}_enable`, "yes");
    if (!job.bare) set(`vm_networking_iface${n}_mac`, randomMac(settings.get("vm_networking_default_mac")));
  }
}
