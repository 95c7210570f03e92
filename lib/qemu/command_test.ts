import { equal } from "node:assert/strict";
import { QemuCommandLine } from "./command.ts";

Deno.test("the machine type is the last one -machine or -M gives", () => {
  const q = new QemuCommandLine();
  equal(q.machine(), "");
  q.add("-machine", "q35", "-m", "1G");
  equal(q.machine(), "q35");
  q.add("-machine", "smm=on");
  equal(q.machine(), "q35");
  q.add("-M", "accel=tcg,type=pc-i440fx-7.2");
  equal(q.machine(), "pc-i440fx-7.2");
  q.add("-M", "microvm,x-option-roms=off");
  equal(q.machine(), "microvm");
});
