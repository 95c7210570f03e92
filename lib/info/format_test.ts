import { equal } from "node:assert/strict";
import { formatSection, humanSize, quoteValue } from "./format.ts";

Deno.test("humanSize uses powers of 1024 and one decimal below 10", () => {
  equal(humanSize(0), "0");
  equal(humanSize(512), "512");
  equal(humanSize(1024), "1K");
  equal(humanSize(1536), "1.5K");
  equal(humanSize(20 * 2 ** 20), "20M");
  equal(humanSize(2 * 2 ** 30), "2G");
  equal(humanSize(3.5 * 2 ** 40), "3.5T");
});

Deno.test("quoteValue quotes like settings files, JSON for the unstorable", () => {
  equal(quoteValue("plain/path-1.qcow2"), "plain/path-1.qcow2");
  equal(quoteValue("John's VM"), `'John'\\''s VM'`);
  equal(quoteValue(""), "''");
  equal(quoteValue("a\nb"), `"a\\nb"`);
});

Deno.test("formatSection aligns comments after the values", () => {
  equal(
    formatSection("info", [
      { key: "name", value: "vm" },
      { key: "state", value: "not running", comment: "since boot" },
      { key: "pid", value: "12", comment: "x" },
    ]),
    "# info\nname=vm\nstate='not running'  # since boot\npid=12               # x\n",
  );
});
