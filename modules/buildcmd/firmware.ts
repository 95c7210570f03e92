import type { BuildcmdContext, FirmwareDescriptor, ModuleLog } from "../../lib/modules/api.ts";

/** The Debian package with the UEFI firmware of each architecture, for the message when none is found. */
const PACKAGE: Readonly<Record<string, string>> = {
  x86_64: "ovmf",
  i386: "ovmf-ia32",
  aarch64: "qemu-efi-aarch64",
};

/** The versioned machine types QEMU's unversioned aliases stand for (descriptors list the versioned ones). */
const ALIAS: Readonly<Record<string, string>> = { pc: "pc-i440fx", q35: "pc-q35" };

/**
 * The firmware (`vm_firmware`): `bios` leaves QEMU's own (SeaBIOS on x86);
 * `uefi` and `uefi-secure` (Secure Boot with the usual keys enrolled,
 * which needs the q35 machine and its SMM) take the first firmware QEMU's
 * descriptors (`cfg_qemu_firmwaredirs`) offer for the architecture and
 * machine type. The code image is attached read-only; the variable store
 * is the VM's own copy of the firmware's template (`cfg_file_efivars` in
 * the home, made at the first start; a clone gets a copy of it), written
 * to only when the VM's disks are (`vm_storage_rwmode=rw`).
 */
export default function firmware({ settings, qemu, files, firmware, storage, log }: BuildcmdContext): void {
  const kind = settings.get("vm_firmware") || "bios";
  if (kind === "bios") return;
  if (kind !== "uefi" && kind !== "uefi-secure") {
    throw settings.refuse("vm_firmware", "expected bios, uefi or uefi-secure");
  }
  const secure = kind === "uefi-secure";
  const arch = settings.get("vm_qemu_arch");
  const machine = qemu.machine() || (arch === "x86_64" || arch === "i386" ? "pc" : "");
  if (!machine) throw new Error(`vm_firmware=${kind}: name the machine type for ${arch} (vm_qemu_machine)`);
  if (secure && !/^(q35|pc-q35-.*)$/.test(machine)) {
    throw new Error(
      `vm_firmware=uefi-secure needs the q35 machine, whose SMM protects the Secure Boot keys (vm_qemu_machine=q35; now ${machine})`,
    );
  }
  const found = pick(firmware.descriptors(), arch, versioned(machine), secure, log);
  if (!found?.flash) {
    const pkg = PACKAGE[arch];
    throw new Error(
      `vm_firmware=${kind}: no ${secure ? "Secure Boot " : ""}UEFI firmware for ${arch} machine ${machine} ` +
        `described in ${settings.list("cfg_qemu_firmwaredirs").join(", ") || "(no directory)"}` +
        (pkg ? ` (install the Debian package ${pkg})` : ""),
    );
  }
  log.debug(`firmware: ${found.file} (${found.description})`);
  const { executable, nvramTemplate } = found.flash;
  const vars = `${files.dir}/${settings.get("cfg_file_efivars")}`;
  makeVarStore(vars, nvramTemplate.filename, log);
  if (found.features.includes("requires-smm")) {
    qemu.add("-machine", "smm=on", "-global", "driver=cfi.pflash01,property=secure,value=on");
  }
  // A snapshot or read-only start keeps the variable store as it is, like the disks.
  const keep = (settings.get("vm_storage_rwmode") || "rw") !== "rw";
  qemu.add(
    "-drive",
    `if=pflash,unit=0,format=${executable.format},readonly=on,file=${storage.escape(executable.filename)}`,
    "-drive",
    `if=pflash,unit=1,format=${nvramTemplate.format},file=${storage.escape(vars)}${
      keep ? ",snapshot=on" : ""
    }`,
  );
}

/**
 * The first descriptor of a UEFI firmware in split flash for `arch` and
 * `machine` whose files are there: with Secure Boot and enrolled keys for
 * `secure`, without Secure Boot otherwise (an unsigned boot loader must
 * boot under plain `uefi`).
 */
function pick(
  descriptors: readonly FirmwareDescriptor[],
  arch: string,
  machine: string,
  secure: boolean,
  log: ModuleLog,
): FirmwareDescriptor | undefined {
  return descriptors.find((d) => {
    if (!d.interfaceTypes.includes("uefi") || !d.flash) return false;
    if (
      !d.targets.some((t) => t.architecture === arch && t.machines.some((m) => machineMatches(m, machine)))
    ) {
      return false;
    }
    const isSecure = d.features.includes("secure-boot");
    if (secure ? !isSecure || !d.features.includes("enrolled-keys") : isSecure) return false;
    for (const f of [d.flash.executable.filename, d.flash.nvramTemplate.filename]) {
      try {
        Deno.statSync(f);
      } catch {
        log.debug(`firmware: ${d.file} names ${f}, which is missing`);
        return false;
      }
    }
    return true;
  });
}

/**
 * A machine type as descriptors name it: an alias (`q35`, `pc`, `virt`)
 * stands for QEMU's newest version of that machine.
 */
export function versioned(machine: string): string {
  if (/-\d+(\.\d+)*$/.test(machine)) return machine;
  return `${ALIAS[machine] ?? machine}-999.0`;
}

/** Whether a machine type fits a descriptor's pattern (`pc-q35-*`: `*` any text, `?` one character). */
export function machineMatches(pattern: string, machine: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*").replaceAll("?", ".");
  return new RegExp(`^${re}$`).test(machine);
}

/**
 * Makes the VM's variable store from the firmware's template unless it has
 * one; refuses one of another size (made for another firmware), and a
 * symbolic link.
 */
function makeVarStore(vars: string, template: string, log: ModuleLog): void {
  const want = Deno.statSync(template).size;
  let have: number | undefined;
  try {
    const info = Deno.lstatSync(vars);
    have = info.size;
    // A link could make this VM's firmware write to another VM's store, or to any file of that size.
    if (info.isSymlink) {
      throw new Error(`${vars}: a symbolic link; the variable store must be the VM's own file`);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (have === undefined) {
    const partial = `${vars}.tmp-${Deno.pid}`;
    try {
      Deno.copyFileSync(template, partial);
      Deno.renameSync(partial, vars);
    } catch (e) {
      try {
        Deno.removeSync(partial);
      } catch { /* never made */ }
      throw new Error(`${vars}: cannot make the UEFI variable store: ${(e as Error).message}`);
    }
    log.info(`${vars}: UEFI variable store made from ${template}`);
  } else if (have !== want) {
    throw new Error(
      `${vars}: ${have} bytes, but this firmware's variable store has ${want} (${template}): ` +
        `it was made for another firmware; remove it to start from this one's`,
    );
  }
}
