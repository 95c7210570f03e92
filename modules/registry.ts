/**
 * The built-in modules, loaded lazily by name. A file of the same name in a
 * configuration root's `modules/<family>/` replaces one of these.
 * @module
 */
import type { BuiltinRegistry } from "../lib/modules/loader.ts";

/** Every built-in module by family and name. */
export const BUILTIN_MODULES: BuiltinRegistry = {
  "buildcmd": {
    qemu: () => import("./buildcmd/qemu.ts"),
    boot: () => import("./buildcmd/boot.ts"),
    cpu: () => import("./buildcmd/cpu.ts"),
    display: () => import("./buildcmd/display.ts"),
    keyboard: () => import("./buildcmd/keyboard.ts"),
    monitor: () => import("./buildcmd/monitor.ts"),
    serial: () => import("./buildcmd/serial.ts"),
    name: () => import("./buildcmd/name.ts"),
    networking: () => import("./buildcmd/networking.ts"),
    ram: () => import("./buildcmd/ram.ts"),
    storage_cdrom: () => import("./buildcmd/storage_cdrom.ts"),
    storage_hdd: () => import("./buildcmd/storage_hdd.ts"),
  },
  "configure/templates": {
    autodetect: () => import("./configure/templates/autodetect.ts"),
  },
  "configure/settings": {
    cpu_count: () => import("./configure/settings/cpu_count.ts"),
    ram_size: () => import("./configure/settings/ram_size.ts"),
    networking_auto: () => import("./configure/settings/networking_auto.ts"),
    storage_hdd_import: () => import("./configure/settings/storage_hdd_import.ts"),
    storage_hdd1_createsize: () => import("./configure/settings/storage_hdd1_createsize.ts"),
  },
  "clone": {},
};
