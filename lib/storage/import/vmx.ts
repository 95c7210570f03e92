/**
 * VMware `.vmx` files: `key = "value"` lines read into the disks and the
 * proposals of a {@linkcode Machine}.
 *
 * Read here rather than with npm's `ini`, which was tried: it skips lines it
 * cannot read without a word (so a malformed line could not be named),
 * takes a bare word for `true` and a `[x]` line for a section that swallows
 * every key after it, and reads quoted values as JSON strings, so a Windows
 * path `"C:\new\disk.vmdk"` comes back holding a newline, or still quoted.
 * VMware's own rules are few: one `key = "value"` a line, `#` comments,
 * keys without regard to case, and `|XX` (two hex digits) for a character
 * a value cannot hold as it is.
 * @module
 */
import { VmError } from "../../errors.ts";
import { dirname, resolve } from "../../path.ts";
import { isInside, realPathOr } from "../../fs.ts";
import { imageReferences } from "../references.ts";
import { type Machine, type MachineDisk, readMac, tidyName } from "./machine.ts";

/** One value of a `.vmx` file and the line it is on (from 1). */
export interface VmxValue {
  /** The value, its quotes removed and `|XX` escapes decoded. */
  value: string;
  /** Its line number, from 1. */
  line: number;
}

/** The largest `.vmx` file read (real ones are a few KiB). */
const MAX_BYTES = 1 << 20;
const LINE = /^\s*([A-Za-z0-9_.:\-]+)\s*=\s*(.*?)\s*$/;

/**
 * Reads the text of a `.vmx` file into its values by lower-case key (the
 * last of a repeated key wins). A line that is not `key = value` is an
 * error naming `path` and the line.
 */
export function parseVmx(text: string, path: string): Map<string, VmxValue> {
  const values = new Map<string, VmxValue>();
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\r$/, "");
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const m = LINE.exec(line);
    const value = m ? unquote(m[2]) : undefined;
    if (!m || value === undefined) {
      throw new VmError(`${path}:${i + 1}: expected key = "value", found '${excerpt(trimmed)}'`);
    }
    values.set(m[1].toLowerCase(), { value, line: i + 1 });
  });
  return values;
}

/** A value as written: `"…"` with `|XX` escapes, or a bare word; undefined when malformed. */
function unquote(text: string): string | undefined {
  let inner = text;
  if (text.startsWith('"')) {
    if (text.length < 2 || !text.endsWith('"')) return undefined;
    inner = text.slice(1, -1);
    if (inner.includes('"')) return undefined;
  } else if (/[\s"]/.test(text)) return undefined;
  return inner.replace(/\|([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function excerpt(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/**
 * Reads the `.vmx` file at `path`: its hard disks (the `scsi0:0.fileName`
 * kind of entries, CD-ROMs left out, relative to the file), `displayName`,
 * `memsize`, `numvcpus`, and its network adapters (`ethernetN.present`)
 * with the first one's MAC (`address`, else `generatedAddress`). A value
 * that does not fit, or a disk that is not there, is an error at its line.
 */
export function readVmx(path: string): Machine {
  const values = parseVmx(decode(path), path);
  const at = (key: string) => `${path}:${values.get(key)!.line}`;
  const get = (key: string) => values.get(key)?.value;
  const count = (key: string, what: string) => {
    const text = get(key);
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < 1) throw new VmError(`${at(key)}: ${key} = "${text}": expected ${what}`);
    return n;
  };
  const machine: Machine = {
    path,
    kind: "vmx",
    disks: disksOf(values, path),
    name: tidyName(get("displayname") ?? ""),
    memoryMiB: count("memsize", "a number of MiB"),
    cpus: count("numvcpus", "a number of CPUs"),
  };
  const nics = [...values.keys()]
    .map((k) => /^ethernet(\d+)\.present$/.exec(k))
    .filter((m) => m && isTrue(get(m[0])))
    .map((m) => Number(m![1]))
    .sort((a, b) => a - b);
  machine.nics = nics.length;
  if (nics.length) {
    const nic = `ethernet${nics[0]}`;
    const key = get(`${nic}.addresstype`)?.toLowerCase() === "static" && get(`${nic}.address`)
      ? `${nic}.address`
      : [`${nic}.generatedaddress`, `${nic}.address`].find((k) => get(k));
    if (key) {
      machine.mac = readMac(get(key)!);
      if (!machine.mac) throw new VmError(`${at(key)}: ${key} = "${get(key)}": expected a MAC address`);
    }
  }
  if (!machine.disks.length) {
    throw new VmError(`${path}: names no hard disk (no scsi0:0.fileName or the like)`);
  }
  return machine;
}

/** The hard disks, in the order the file lists them; each must exist. */
function disksOf(values: Map<string, VmxValue>, path: string): MachineDisk[] {
  const found: { path: string; line: number }[] = [];
  for (const [key, { value, line }] of values) {
    const m = /^((?:ide|scsi|sata|nvme)\d+:\d+)\.filename$/.exec(key);
    if (!m) continue;
    const device = m[1];
    const type = values.get(`${device}.devicetype`)?.value.toLowerCase() ?? "";
    if (type.includes("cdrom") || values.get(`${device}.present`)?.value.toLowerCase() === "false") continue;
    const file = resolve(value, dirname(path));
    let isFile = false;
    try {
      isFile = Deno.statSync(file).isFile;
    } catch { /* said below */ }
    if (!isFile) throw new VmError(`${path}:${line}: ${key} = "${value}": no such disk image (${file})`);
    // A machine from elsewhere must not make vmtools copy the user's other files into a disk its guest reads.
    for (const part of [file, ...namedFiles(file, `${path}:${line}: ${key} = "${value}"`)]) {
      if (!isInside(part, dirname(path))) {
        throw new VmError(
          `${path}:${line}: ${key} = "${value}": ${part === file ? "" : `its extent or parent `}${
            shown(part)
          } lies outside ` +
            `the machine's folder ${dirname(path)}; a .vmx may only name disks beside it or below`,
        );
      }
    }
    found.push({ path: file, line });
  }
  return found.sort((a, b) => a.line - b.line).map((d) => ({ kind: "file", path: d.path }));
}

/** `path`, and where a symbolic link leads it. */
function shown(path: string): string {
  const real = realPathOr(path);
  return real === path ? path : `${path} (-> ${real})`;
}

/**
 * The other files QEMU opens for the image `file` (see `references.ts`).
 * A qcow2 image's external data file is refused here.
 */
function namedFiles(file: string, where: string): string[] {
  const refs = imageReferences(file);
  if (refs.unreadable) throw new VmError(`${where}: ${file}: ${refs.unreadable}`);
  if (refs.externalData) {
    throw new VmError(`${where}: ${file} keeps its data in an external file, which is not supported`);
  }
  return [...refs.extents, ...refs.backing];
}

function isTrue(value: string | undefined): boolean {
  return ["true", "yes", "1"].includes((value ?? "").toLowerCase());
}

/**
 * The file's text, in the character set its `.encoding` line names (UTF-8
 * when it names none); one line naming the file when it cannot be read.
 */
function decode(path: string): string {
  let bytes: Uint8Array;
  try {
    if (Deno.statSync(path).size > MAX_BYTES) {
      throw new VmError(`${path}: too large for a .vmx file (over 1 MiB)`);
    }
    bytes = Deno.readFileSync(path);
  } catch (e) {
    if (e instanceof VmError) throw e;
    throw new VmError(`${path}: cannot read: ${(e as Error).message}`);
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    const line = bytes.subarray(0, nul).filter((b) => b === 10).length + 1;
    throw new VmError(`${path}:${line}: not a .vmx file (binary data)`);
  }
  const declared = /^\s*\.encoding\s*=\s*"([^"]*)"/im.exec(new TextDecoder("latin1").decode(bytes))?.[1];
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(declared || "utf-8", { fatal: true });
  } catch {
    throw new VmError(`${path}: unknown character set '${declared}' (.encoding)`);
  }
  try {
    return decoder.decode(bytes);
  } catch {
    throw new VmError(`${path}: not valid ${decoder.encoding} text`);
  }
}
