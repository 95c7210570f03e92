import type { BuildcmdContext } from "../../lib/modules/api.ts";

/** One `hostfwd` rule, QEMU's syntax: `[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport`. */
const HOSTFWD = /^(?:tcp|udp)?:(?:\d{1,3}(?:\.\d{1,3}){3})?:\d{1,5}-(?:\d{1,3}(?:\.\d{1,3}){3})?:\d{1,5}$/;

/**
 * One NIC and netdev per enabled `vm_networking_ifaceN_*` (any N), falling
 * back to the `vm_networking_default_*` values; no NIC at all when none is
 * enabled. `vm_networking_ifaceN_hostfwd` adds port forwards (user mode only).
 */
export default function networking(
  { settings, qemu, randomMac }: BuildcmdContext,
): void {
  const ifaces = settings.entries()
    .map(([name]) => /^vm_networking_iface(\d+)_enable$/.exec(name)?.[1])
    .filter((n): n is string => n !== undefined && settings.bool(`vm_networking_iface${n}_enable`))
    .map(Number)
    .sort((a, b) => a - b);
  if (!ifaces.length) {
    qemu.add("-nic", "none");
    return;
  }
  for (const n of ifaces) {
    const pick = (what: string) =>
      settings.get(`vm_networking_iface${n}_${what}`) ||
      settings.get(`vm_networking_default_${what}`);
    const [type, ...options] = pick("mode").split(",");
    const [device, ...deviceOptions] = pick("device").split(",");
    const mac = randomMac(pick("mac"));
    qemu.add("-netdev", [type, `id=nd${n}`, ...options, ...forwards(settings, n, type)].join(","));
    qemu.add(
      "-device",
      [device, `mac=${mac}`, `netdev=nd${n}`, ...deviceOptions].join(","),
    );
  }
}

/** The `hostfwd=` options of interface `n`, each rule checked (a comma would smuggle in other options). */
function forwards(settings: BuildcmdContext["settings"], n: number, type: string): string[] {
  const name = `vm_networking_iface${n}_hostfwd`;
  const rules = settings.get(name).split(/\s+/).filter(Boolean);
  const origin = settings.origin(name);
  const at = origin?.file !== undefined ? `${origin.file}:${origin.line}: ` : "";
  if (rules.length && type !== "user") {
    throw new Error(`${at}${name}: port forwards need user-mode networking (the mode is '${type}')`);
  }
  for (const rule of rules) {
    const ports = rule.split("-").map((part) => Number(part.slice(part.lastIndexOf(":") + 1)));
    if (!HOSTFWD.test(rule) || ports[0] > 65535 || !(ports[1] >= 1 && ports[1] <= 65535)) {
      throw new Error(
        `${at}${name}: '${rule}' is not a forward; write [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport ` +
          `(e.g. tcp:127.0.0.1:2222-:22; host port 0 lets the system pick one)`,
      );
    }
  }
  return rules.map((rule) => `hostfwd=${rule}`);
}
