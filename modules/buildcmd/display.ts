import type { BuildcmdContext } from "../../lib/modules/api.ts";

const DEVICES = [
  "cirrus",
  "std",
  "vmware",
  "qxl",
  "tcx",
  "cg3",
  "virtio",
  "none",
];

/**
 * Display output and video card. `auto` opens a window when a display
 * server is reachable, otherwise serves VNC. VNC without a fixed port lets
 * QEMU take the first free display itself (`to=`), so VMs started together
 * never race for a port; vmup asks QEMU which one it got.
 */
export default function display(
  { settings, qemu, host }: BuildcmdContext,
): void {
  let type = settings.get("vm_display_type");
  if (type === "auto") type = host.graphical ? "gtk" : "vnc";
  let device = settings.get("vm_display_device");
  if (type === "spice" && device !== "none") device = "qxl";
  if (!DEVICES.includes(device)) {
    throw new Error(
      `vm_display_device='${device}': expected one of ${DEVICES.join(", ")}`,
    );
  }
  const iface = settings.get("vm_display_iface") || "127.0.0.1";
  const host6 = iface.includes(":") ? `[${iface}]` : iface;
  switch (type) {
    case "vnc": {
      const fixed = settings.get("vm_display_port");
      const min = Number(settings.get("vm_display_portmin") || 5900);
      const port = fixed ? Number(fixed) : Math.max(min, 5900);
      if (!Number.isInteger(port) || port < 5900 || port > 65535) {
        throw new Error(
          `VNC port ${fixed || min} is out of range (5900-65535)`,
        );
      }
      const first = port - 5900;
      qemu.add(
        "-display",
        "none",
        "-vnc",
        fixed ? `${host6}:${first}` : `${host6}:${first},to=${first + 99}`,
      );
      break;
    }
    case "spice": {
      const port = settings.get("vm_display_port") ||
        settings.get("vm_display_portmin") || "5900";
      qemu.add(
        "-display",
        "none",
        "-spice",
        `port=${port},addr=${iface},disable-ticketing=on`,
      );
      break;
    }
    case "sdl":
    case "gtk":
    case "none":
      qemu.add("-display", type);
      break;
    default:
      throw new Error(
        `vm_display_type='${type}': expected auto, vnc, spice, sdl, gtk or none`,
      );
  }
  qemu.add("-vga", device);
}
