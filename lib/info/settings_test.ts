import { deepEqual, equal } from "node:assert/strict";
import { assignments, parseSettings } from "../settings/file.ts";
import { Settings } from "../settings/settings.ts";
import { formatSettings, originText, selectSettings } from "./settings.ts";

function sample(): Settings {
  const s = new Settings();
  s.set("cfg_ui_verbosity", "2", { layer: "default" });
  s.set("vm_ram_size", "2G", { layer: "default" });
  s.set("vm_cpu_count", "4", { layer: "system", source: "/etc/vmtools/vmtools.conf" });
  s.set("vm_ram_size", "512M", { layer: "template", source: "small" });
  s.set("vm_name", "John's VM", { layer: "parent", source: "/vms/base" });
  s.set("vm_boot_order", "d", { layer: "vm" });
  s.set("vm_display_type", "vnc", { layer: "cmdline" });
  s.set("vm_home", "/vms/base/child");
  return s;
}

Deno.test("selectSettings keeps what the VM chain and -o give", () => {
  deepEqual(selectSettings(sample(), false).map((r) => [r.name, r.origin]), [
    ["vm_boot_order", "vm"],
    ["vm_display_type", "command line"],
    ["vm_name", "parent /vms/base"],
    ["vm_ram_size", "template small"],
  ]);
});

Deno.test("selectSettings -l lists everything, tool values as computed", () => {
  const all = selectSettings(sample(), true);
  equal(all.length, 7);
  equal(all.find((r) => r.name === "vm_home")?.origin, "computed");
  equal(
    all.find((r) => r.name === "vm_cpu_count")?.origin,
    "system /etc/vmtools/vmtools.conf",
  );
  equal(originText(undefined), "unknown");
});

Deno.test("the settings text reads back as a settings file", () => {
  for (const long of [false, true]) {
    const text = formatSettings(
      selectSettings(sample(), false),
      long,
    );
    const file = parseSettings(text, "(vminfo)", "vm");
    deepEqual(assignments(file), [
      ["vm_boot_order", "d"],
      ["vm_display_type", "vnc"],
      ["vm_name", "John's VM"],
      ["vm_ram_size", "512M"],
    ]);
  }
});
