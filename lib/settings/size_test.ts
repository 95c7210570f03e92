import { deepEqual, equal, throws } from "node:assert/strict";
import { VmError } from "../errors.ts";
import { Settings } from "./settings.ts";
import { parseSize, readSize } from "./size.ts";

const MiB = 2 ** 20;

Deno.test("a plain number is MiB, as QEMU reads -m; suffixes K M G T in any case, iB or B after", () => {
  const cases: [string, number][] = [
    ["256", 256 * MiB],
    ["1024", 1024 * MiB],
    ["1.5", 1.5 * MiB],
    ["2048k", 2 * MiB],
    ["2048KiB", 2 * MiB],
    ["512M", 512 * MiB],
    ["512mb", 512 * MiB],
    ["512MiB", 512 * MiB],
    ["1.5G", 1536 * MiB],
    ["2g", 2048 * MiB],
    ["1T", 2 ** 40],
    [" 4G ", 4096 * MiB],
    ["0", 0],
  ];
  for (const [text, bytes] of cases) equal(parseSize(text), bytes, text);
  for (
    const text of ["", "256B", "1iB", "G", "1.G", ".5G", "1e3", "-1G", "1 G", "1P", "12x", "9".repeat(400)]
  ) {
    equal(parseSize(text), undefined, text);
  }
});

Deno.test("RAM under 16 MiB is refused; disk sizes only need the form", () => {
  deepEqual(readSize("vm_ram_size", "16"), { bytes: 16 * MiB });
  deepEqual(readSize("vm_ram_size", "2048k"), {
    reason: "too small to boot anything (at least 16M)",
    expected: "at least 16M (less is too small to boot anything)",
  });
  equal("reason" in readSize("vm_ram_size", "15.9M"), true);
  equal("reason" in readSize("vm_ram_size", "0"), true);
  deepEqual(readSize("vm_storage_hdd1_createsize", "0"), { bytes: 0 });
  deepEqual(readSize("vm_storage_hdd2_createsize", "64"), { bytes: 64 * MiB });
  deepEqual(readSize("vm_storage_hdd1_createsize", "lots"), {
    reason: "expected a size such as 512M or 2G (a plain number is MiB)",
    expected: "a size such as 512M or 2G (a plain number is MiB)",
  });
});

Deno.test("Settings.size names the setting, its value and where the value comes from", () => {
  const s = new Settings();
  s.set("vm_ram_size", "256", { layer: "cmdline" });
  equal(s.size("vm_ram_size"), 256 * MiB);
  s.set("vm_ram_size", "2048k", { layer: "cmdline" });
  throws(
    () => s.size("vm_ram_size"),
    (e) =>
      e instanceof VmError &&
      e.message ===
        "setting vm_ram_size='2048k' (from command line): too small to boot anything (at least 16M)",
  );
  s.set("vm_ram_size", "8M", { layer: "template", source: "tiny" });
  throws(() => s.size("vm_ram_size"), /^VmError: setting vm_ram_size='8M' \(from template tiny\): too small/);
  s.set("vm_ram_size", "1".repeat(5000), { layer: "vm" });
  throws(
    () => s.size("vm_ram_size"),
    /^VmError: setting vm_ram_size='1{60}\.\.\. \(5000 characters\)' \(from vm\): expected a size/,
  );
});
