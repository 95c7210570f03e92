/** The built-in configure/settings modules, by name. */
export { default as cpu_count } from "./cpu_count.ts";
export { default as ram_size } from "./ram_size.ts";
export { default as networking_auto } from "./networking_auto.ts";
export { default as storage_hdd_import } from "./storage_hdd_import.ts";
export { default as storage_hdd1_createsize } from "./storage_hdd1_createsize.ts";
export { default as keyboard_mapping } from "./keyboard_mapping.ts";
