/** The built-in clone modules, by name. */
export { default as networking_iface_mac } from "./networking_iface_mac.ts";
export { default as storage_backend } from "./storage_backend.ts";
export { default as cloudinit } from "./cloudinit.ts";
export { default as firmware_vars } from "./firmware_vars.ts";
