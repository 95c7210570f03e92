import { deepEqual, equal } from "node:assert/strict";
import {
  DECLARABLE,
  DeclaredNames,
  isBuiltinName,
  nearestName,
  unknownCandidates,
  unknownSettingWarning,
} from "./known.ts";
import { Settings } from "./settings.ts";
import { DEFAULTS } from "./defaults.ts";

Deno.test("known by vmtools: defaults, numbered families with any N, names reserved for users", () => {
  for (const name of Object.keys(DEFAULTS)) equal(isBuiltinName(name), true, name);
  for (
    const name of [
      "vm_home",
      "vm_networking_iface37_mac",
      "vm_storage_hdd3_createsize",
      "vm_storage_cdrom12_backend",
      "vm_custom_x",
      "cfg_custom_",
    ]
  ) equal(isBuiltinName(name), true, name);
  for (
    const name of ["vm_ram_sise", "vm_storage_hdd_enable", "vm_storage_hdd1_mac", "vm_networking_ifaceX_mac"]
  ) {
    equal(isBuiltinName(name), false, name);
  }
});

Deno.test("the nearest known name, when one is a slip away", () => {
  equal(nearestName("vm_ram_sise"), "vm_ram_size");
  equal(nearestName("vm_ram_szie"), "vm_ram_size", "a swap is one edit");
  equal(nearestName("vm_storage_hdd4_enabel"), "vm_storage_hdd4_enable", "families with the same N");
  equal(nearestName("vm_qwertyuiop"), undefined);
  equal(nearestName("vm_x"), undefined);
  const declared = new DeclaredNames();
  declared.add("vm_rng_source");
  equal(nearestName("vm_rng_sorce", declared), "vm_rng_source");
});

Deno.test("only values from files and -o are candidates; declared prefixes match", () => {
  const s = new Settings();
  s.set("vm_ram_sise", "1G", { layer: "cmdline" });
  s.set("vm_home", "/x", { layer: "tool" });
  s.set("vm_xyz", "", { layer: "vm", file: "/h/vm.settings", line: 4 });
  s.set("vm_ram_size", "1G", { layer: "vm" });
  deepEqual(unknownCandidates(s).map(([n]) => n), ["vm_ram_sise", "vm_xyz"]);
  const declared = new DeclaredNames();
  declared.add("vm_x*");
  equal(declared.has("vm_xyz"), true);
  equal(declared.has("vm_ram_sise"), false);
  for (const name of ["vm_rng_source", "vm_rng_*", "cfg_team_x"]) equal(DECLARABLE.test(name), true, name);
  for (const name of ["vm_*", "cfg_*", "x_y", "vm_a-b", "vm_a**", ""]) {
    equal(DECLARABLE.test(name), false, name);
  }
  equal(
    unknownSettingWarning("vm_xyz", s.origin("vm_xyz")!),
    "/h/vm.settings:4: unknown setting vm_xyz (no known setting is close; names of your own start with vm_custom_)",
  );
  equal(
    unknownSettingWarning("cfg_zzzzzzzz", { layer: "cmdline" }),
    "unknown setting cfg_zzzzzzzz (from command line; no known setting is close; names of your own start with cfg_custom_)",
  );
});
