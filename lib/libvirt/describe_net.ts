/**
 * A VM's network interfaces as libvirt interfaces: one per enabled
 * `vm_networking_ifaceN_*`, as the `networking` module gives them to QEMU.
 * User-mode networking and host bridges have libvirt elements; any other
 * mode, and any mode or device with options libvirt has no words for
 * (`hostfwd=…` and `vm_networking_ifaceN_hostfwd` port forwards,
 * `restrict=on`), goes to QEMU as the same `-netdev` and `-device`
 * arguments vmup would give it (netdev `ndN`, as vmup names it).
 * @module
 */
import { VmError } from "../errors.ts";
import { enabledIfaces, parseRule } from "../qemu/forwards.ts";
import type { Settings } from "../settings/settings.ts";
import type { NicSpec } from "./spec.ts";
import { stableMac } from "./stable.ts";

/** The interfaces libvirt describes, and the QEMU arguments of the others. */
export interface NetworkSpec {
  /** The interfaces libvirt has elements for (user-mode networking, host bridges). */
  nics: NicSpec[];
  /** `-netdev` and `-device` arguments for the others, as vmup would give them. */
  qemuArgs: string[];
  /** Why some interfaces went to QEMU as arguments, one line each. */
  notes: string[];
}

/** libvirt's model names for QEMU NIC devices, where they differ. */
const MODELS: Record<string, string> = { "virtio-net-pci": "virtio", "virtio-net": "virtio" };

/** Describes the enabled interfaces; MAC prefixes are completed from `home` (see `stable.ts`). */
export async function describeNetwork(settings: Settings, home: string): Promise<NetworkSpec> {
  const out: NetworkSpec = { nics: [], qemuArgs: [], notes: [] };
  for (const n of enabledIfaces(settings)) {
    const pick = (what: string) =>
      settings.get(`vm_networking_iface${n}_${what}`) || settings.get(`vm_networking_default_${what}`);
    const [type, ...modeOptions] = pick("mode").split(",");
    const options = [...modeOptions, ...forwards(settings, n, type)];
    const [device, ...deviceOptions] = pick("device").split(",");
    const mac = await stableMac(pick("mac"), home, n);
    const name = `iface${n}`;
    const network = networkOf(type, options);
    if (network && deviceOptions.length === 0) {
      out.nics.push({ name, mac, model: MODELS[device] ?? device, network });
      continue;
    }
    const id = `nd${n}`;
    out.qemuArgs.push("-netdev", [type, `id=${id}`, ...options].join(","));
    out.qemuArgs.push("-device", [device, `mac=${mac}`, `netdev=${id}`, ...deviceOptions].join(","));
    out.notes.push(
      `${name}: '${pick("mode")}' with device '${
        pick("device")
      }' has no libvirt interface: given to QEMU as arguments`,
    );
  }
  return out;
}

/** The `hostfwd=` options of interface `n`'s `vm_networking_ifaceN_hostfwd`, checked as the `networking` module checks them. */
function forwards(settings: Settings, n: number, type: string): string[] {
  const name = `vm_networking_iface${n}_hostfwd`;
  const rules = settings.get(name).split(/\s+/).filter(Boolean);
  const origin = settings.origin(name);
  const at = origin?.file !== undefined ? `${origin.file}:${origin.line}: ` : "";
  if (rules.length && type !== "user") {
    throw new VmError(`${at}${name}: port forwards need user-mode networking (the mode is '${type}')`);
  }
  for (const rule of rules) {
    if (!parseRule(rule)) {
      throw new VmError(
        `${at}${name}: '${rule}' is not a forward; write [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport`,
      );
    }
  }
  return rules.map((rule) => `hostfwd=${rule}`);
}

/** The libvirt network of a netdev mode, when libvirt has one for it with these options. */
function networkOf(type: string, options: string[]): NicSpec["network"] | undefined {
  if (type === "user" && options.length === 0) return { type: "user" };
  if (type === "bridge" && options.every((o) => o.startsWith("br="))) {
    // QEMU's bridge helper takes br0 when none is named.
    return { type: "bridge", bridge: options.at(-1)?.slice(3) || "br0" };
  }
  return undefined;
}
