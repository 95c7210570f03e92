import type { BuildcmdContext, ModuleLog, Origin, Settings } from "../../lib/modules/api.ts";

/** A seed file larger than this is surely a mistake (cloud providers cap user-data at 16 KiB to 16 MiB). */
const MAX_BYTES = 16 * 2 ** 20;

/** The QEMU id of the seed's drive. */
const DRIVE = "vmtools-cidata";

/**
 * The cloud-init NoCloud seed (`vm_cloudinit_userdata`, and optionally
 * `vm_cloudinit_metadata` and `vm_cloudinit_networkconfig`): an ISO image
 * labelled `cidata` holding `user-data`, `meta-data` (the given file, with
 * `instance-id` and `local-hostname` added unless it has them) and
 * `network-config`, made in the home (`cfg_file_cidata`; the runtime
 * directory of a bare boot) whenever its content changes, and attached as
 * a CD-ROM of its own: a port of q35's SATA controller that the CD-ROM
 * slots never use, elsewhere a SATA controller of its own.
 *
 * Relative paths are taken from the home of the VM whose settings file
 * sets them (for a bare boot, from the current directory). A VM's settings
 * (its own or a parent's) may name only files inside that VM's home: a VM
 * home from someone else cannot hand your files to its guest. Paths given
 * with `-o`, in a `vmtools.conf` or a template may lie anywhere.
 */
export default async function cloudinit(
  { settings, qemu, files, storage, log }: BuildcmdContext,
): Promise<void> {
  if (!settings.get("vm_cloudinit_userdata")) {
    for (const name of ["vm_cloudinit_metadata", "vm_cloudinit_networkconfig"]) {
      if (settings.get(name)) log.warn(`${name} is ignored: vm_cloudinit_userdata is not set`);
    }
    return;
  }
  const home = settings.get("vm_home");
  const seedFiles: Record<string, Uint8Array | string> = {
    "user-data": readInput(settings, "vm_cloudinit_userdata", home)!,
    "meta-data": metaData(
      readInput(settings, "vm_cloudinit_metadata", home),
      instanceId(settings),
      hostname(settings.get("vm_name")),
    ),
  };
  const network = readInput(settings, "vm_cloudinit_networkconfig", home);
  if (network) seedFiles["network-config"] = network;
  const seed = `${files.dir}/${settings.get("cfg_file_cidata")}`;
  if (await storage.isoImage(seed, "cidata", seedFiles)) log.info(`${seed}: cloud-init seed made`);
  attach(qemu, storage.escape(seed), log);
}

/** Reads the file a setting names, under the rules above; `undefined` when the setting is empty. */
function readInput(settings: Settings, name: string, home: string): Uint8Array | undefined {
  const value = settings.get(name);
  if (!value) return undefined;
  const origin = settings.origin(name) ?? { layer: "default" };
  const fromFile = origin.layer === "vm" || origin.layer === "parent";
  const base = origin.layer === "parent" && origin.source ? origin.source : home || Deno.cwd();
  const path = value.startsWith("/") ? value : `${base}/${value}`;
  const fail = (why: string) => new Error(`${name}='${value}' (${where(origin)}): ${why}`);
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (e) {
    throw fail(`cannot read ${path}: ${reason(e)}`);
  }
  if (!info.isFile) throw fail(`${path} is not a regular file`);
  if (fromFile && !inside(path, base)) {
    throw fail(
      `a VM's settings may name only files inside its home (${base}); ` +
        "copy the file there, or give the path with -o or in your vmtools.conf",
    );
  }
  if (info.size > MAX_BYTES) throw fail(`${path} is too large (${info.size} bytes; at most ${MAX_BYTES})`);
  try {
    return Deno.readFileSync(path);
  } catch (e) {
    throw fail(`cannot read ${path}: ${reason(e)}`);
  }
}

/** Whether `path`, symbolic links followed, lies inside the directory `dir`. */
function inside(path: string, dir: string): boolean {
  const real = Deno.realPathSync(path);
  const top = Deno.realPathSync(dir);
  return real.startsWith(top.endsWith("/") ? top : `${top}/`);
}

/**
 * `meta-data`: the given file with `instance-id` and `local-hostname`
 * added where it has none (a JSON object gets them as members, YAML as
 * lines); the values are JSON strings, which YAML reads too.
 */
export function metaData(given: Uint8Array | undefined, id: string, host: string): string {
  const text = given ? new TextDecoder().decode(given) : "";
  if (text.trimStart().startsWith("{")) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch { /* YAML in flow style: left as it is */ }
    if (typeof json === "object" && json !== null && !Array.isArray(json)) {
      const o = json as Record<string, unknown>;
      o["instance-id"] ??= id;
      o["local-hostname"] ??= host;
      return `${JSON.stringify(o, null, 2)}\n`;
    }
  }
  const has = (key: string) => new RegExp(`^(["']?)${key}\\1[ \\t]*:`, "m").test(text);
  let out = text && !text.endsWith("\n") ? `${text}\n` : text;
  if (!has("instance-id")) out += `instance-id: ${JSON.stringify(id)}\n`;
  if (!has("local-hostname")) out += `local-hostname: ${JSON.stringify(host)}\n`;
  return out;
}

/**
 * The instance-id cloud-init tells VMs apart by, which a copy or fork must
 * not share with its source: `vm_cloudinit_instanceid` when set, else one
 * made from the VM's first fixed MAC address (vmcp and vmfork give clones
 * new ones, a move or rename keeps it), else from its name.
 */
export function instanceId(settings: Settings): string {
  const set = settings.get("vm_cloudinit_instanceid");
  if (set) return set;
  const macs: [number, string][] = [];
  for (const [name, { value }] of settings.entries()) {
    const n = /^vm_networking_iface(\d+)_mac$/.exec(name)?.[1];
    if (n === undefined || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(value)) continue;
    if (settings.bool(`vm_networking_iface${n}_enable`)) macs.push([Number(n), value]);
  }
  macs.sort((a, b) => a[0] - b[0]);
  if (macs.length) return `iid-${macs[0][1].replaceAll(":", "").toLowerCase()}`;
  return `iid-${hostname(settings.get("vm_name"))}`;
}

/** A host name made from a VM name: lower case letters, digits and hyphens, at most 63. */
export function hostname(name: string): string {
  const h = name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63).replace(
    /-+$/,
    "",
  );
  return h || "vm";
}

/** Adds the seed as a CD-ROM that takes no slot of `cdrom1`/`cdrom2`. */
function attach(qemu: BuildcmdContext["qemu"], file: string, log: ModuleLog): void {
  const drive = `if=none,id=${DRIVE},format=raw,readonly=on,file=${file}`;
  if (/^(q35|pc-q35-.*)$/.test(qemu.machine())) {
    // CD-ROM slots take ports 2 and 3 (disks 0 and 1); the last port comes after them at boot.
    qemu.add("-drive", drive, "-device", `ide-cd,drive=${DRIVE},bus=ide.5`);
  } else {
    // The IDE slots of an i440fx PC may all be in use.
    qemu.add(
      "-device",
      `ahci,id=${DRIVE}-sata`,
      "-drive",
      drive,
      "-device",
      `ide-cd,drive=${DRIVE},bus=${DRIVE}-sata.0`,
    );
  }
  log.debug(`cloud-init seed attached as ${DRIVE}`);
}

/** Where a value comes from, for messages. */
function where(o: Origin): string {
  if (o.file !== undefined && o.line !== undefined) return `${o.file}:${o.line}`;
  if (o.layer === "cmdline") return "command line";
  if (o.layer === "template") return `template ${o.source}`;
  return o.source ? `${o.layer} ${o.source}` : o.layer;
}

function reason(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  return (e as Error).message;
}
