/**
 * OVF descriptors (the `.ovf` XML file of an `.ova`): the files they
 * reference, the disks made of those files, and the machine's name,
 * memory, CPUs and network adapters. Read with `fast-xml-parser`, loaded
 * only when a descriptor is read.
 * @module
 */
import { VmError } from "../../errors.ts";
import { type MachineProposals, readMac, tidyName } from "./machine.ts";

/** A disk of the descriptor's DiskSection. */
export interface OvfDisk {
  /** Its `ovf:diskId`. */
  id: string;
  /** The name of the file holding it (`ovf:href` of the File it refers to); unset for an empty disk. */
  file?: string;
  /** Its size as the guest sees it, in bytes, when given. */
  capacityBytes?: number;
  /** The format the descriptor says the file has (a URI), when given. */
  format?: string;
  /** `ovf:compression` of its file (e.g. `gzip`), when given. */
  compression?: string;
  /** Whether its file is split into chunks (`ovf:chunkSize`). */
  chunked?: boolean;
}

/** What a descriptor says. */
export interface OvfDescriptor extends MachineProposals {
  /** The disks, in the order of the DiskSection. */
  disks: OvfDisk[];
}

/** An element as the parser gives it: child elements as arrays by name, attributes as `@name`. */
type XmlNode = { [key: string]: XmlNode[] | string } | string;

// CIM resource types (DMTF CIM_ResourceAllocationSettingData).
const PROCESSOR = "3";
const MEMORY = "4";
const ETHERNET = "10";

/**
 * Reads descriptor `text`; `where` names it in errors (`foo.ova: foo.ovf`).
 * XML that is not well-formed is an error at its line and column.
 */
export async function parseOvf(text: string, where: string): Promise<OvfDescriptor> {
  const { XMLParser, XMLValidator } = await import("fast-xml-parser");
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new VmError(`${where}:${valid.err.line}:${valid.err.col}: not well-formed XML: ${valid.err.msg}`);
  }
  const parser = new XMLParser({
    ignoreAttributes: false,
    removeNSPrefix: true,
    attributeNamePrefix: "@",
    parseTagValue: false,
    parseAttributeValue: false,
    // Every element a list, so that one and several read alike.
    isArray: (_name: string, _path: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute,
  });
  const envelope = first(parser.parse(text) as XmlNode, "Envelope");
  if (envelope === undefined) throw new VmError(`${where}: not an OVF descriptor (no Envelope element)`);

  const files = new Map<string, XmlNode>();
  for (const file of all(first(envelope, "References"), "File")) files.set(attr(file, "id") ?? "", file);

  const systems = all(envelope, "VirtualSystem");
  if (all(envelope, "VirtualSystemCollection").length || systems.length > 1) {
    throw new VmError(
      `${where}: describes several virtual machines; only single-machine appliances are supported`,
    );
  }
  if (!systems.length) throw new VmError(`${where}: describes no virtual machine (no VirtualSystem element)`);
  const system = systems[0];
  const out: OvfDescriptor = {
    disks: all(first(envelope, "DiskSection"), "Disk").map((disk) => readDisk(disk, files, where)),
    name: tidyName(textOf(first(system, "Name")) || (attr(system, "id") ?? "")),
  };
  readHardware(system, out, where);
  return out;
}

function readDisk(disk: XmlNode, files: Map<string, XmlNode>, where: string): OvfDisk {
  const id = attr(disk, "diskId") ?? "?";
  const out: OvfDisk = { id, format: attr(disk, "format") };
  const capacity = attr(disk, "capacity");
  if (capacity !== undefined) {
    out.capacityBytes = wholeNumber(capacity, `disk '${id}': capacity`, where) *
      unitBytes(attr(disk, "capacityAllocationUnits") ?? "byte", where);
  }
  const ref = attr(disk, "fileRef");
  if (ref !== undefined) {
    const file = files.get(ref);
    const href = file && attr(file, "href");
    if (!href) {
      throw new VmError(`${where}: disk '${id}' refers to file '${ref}', which References does not list`);
    }
    out.file = href;
    out.compression = attr(file, "compression");
    out.chunked = attr(file, "chunkSize") !== undefined;
  }
  return out;
}

/**
 * Memory, CPUs and network adapters from the VirtualHardwareSection. Items
 * meant for a deployment option other than the default one are left out.
 */
function readHardware(system: XmlNode, out: OvfDescriptor, where: string): void {
  const hardware = first(system, "VirtualHardwareSection");
  const items = ["Item", "EthernetPortItem"].flatMap((name) => all(hardware, name));
  const chosen = defaultConfiguration(system);
  // Items of the default configuration come after the general ones, so that they win.
  const general = items.filter((i) => attr(i, "configuration") === undefined);
  const specific = items.filter((i) =>
    (attr(i, "configuration") ?? "").split(/\s+/).includes(chosen ?? "\0")
  );
  let nics = 0;
  for (const item of [...general, ...specific]) {
    const type = textOf(first(item, "ResourceType"));
    const quantity = () =>
      wholeNumber(textOf(first(item, "VirtualQuantity")), `resource type ${type}: quantity`, where);
    if (type === PROCESSOR) out.cpus = quantity();
    else if (type === MEMORY) {
      const bytes = quantity() * unitBytes(textOf(first(item, "AllocationUnits")) || "byte * 2^20", where);
      out.memoryMiB = Math.ceil(bytes / 2 ** 20);
    } else if (type === ETHERNET) {
      nics++;
      if (nics === 1) out.mac = readMac(textOf(first(item, "Address")));
    }
  }
  if (hardware) out.nics = nics;
}

/** The id of the deployment option marked default (or the first one), if the descriptor has options. */
function defaultConfiguration(system: XmlNode): string | undefined {
  const options = all(first(system, "DeploymentOptionSection"), "Configuration");
  const picked = options.find((o) => attr(o, "default") === "true") ?? options[0];
  return picked && attr(picked, "id");
}

/** Bytes per unit of a DMTF programmatic unit (`byte * 2^20`) or a common name (`MegaBytes`, `GB`). */
export function unitBytes(text: string, where: string): number {
  const unit = text.replace(/\s+/g, "").toLowerCase();
  const named: Record<string, number> = {
    byte: 1,
    bytes: 1,
    kb: 2 ** 10,
    kilobytes: 2 ** 10,
    mb: 2 ** 20,
    megabytes: 2 ** 20,
    gb: 2 ** 30,
    gigabytes: 2 ** 30,
    tb: 2 ** 40,
    terabytes: 2 ** 40,
  };
  if (unit in named) return named[unit];
  const power = /^bytes?\*(\d+)\^(\d+)$/.exec(unit);
  if (power) return Number(power[1]) ** Number(power[2]);
  const times = /^bytes?\*(\d+)$/.exec(unit);
  if (times) return Number(times[1]);
  throw new VmError(`${where}: unknown allocation unit '${text}'`);
}

function wholeNumber(text: string, what: string, where: string): number {
  if (!/^\d+$/.test(text.trim())) throw new VmError(`${where}: ${what} '${text}' is not a whole number`);
  return Number(text.trim());
}

function all(node: XmlNode | undefined, name: string): XmlNode[] {
  if (!node || typeof node === "string" || !Object.hasOwn(node, name)) return [];
  const list = node[name];
  return Array.isArray(list) ? list : [];
}

function first(node: XmlNode | undefined, name: string): XmlNode | undefined {
  return all(node, name)[0];
}

function attr(node: XmlNode, name: string): string | undefined {
  if (typeof node === "string" || !Object.hasOwn(node, `@${name}`)) return undefined;
  const value = node[`@${name}`];
  return typeof value === "string" ? value : undefined;
}

/** The text of an element (trimmed; "" for none). */
function textOf(node: XmlNode | undefined): string {
  if (node === undefined) return "";
  if (typeof node === "string") return node.trim();
  const text = node["#text"];
  return typeof text === "string" ? text.trim() : "";
}
