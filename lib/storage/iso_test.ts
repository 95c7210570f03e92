import { equal } from "node:assert/strict";
import { Logger } from "../ui/log.ts";
import { buildIso } from "./iso.ts";

const quiet = new Logger("test", -1, { out() {}, err() {}, errIsTerminal: false, inIsTerminal: false });

Deno.test("genisoimage makes an ISO 9660 image of a directory", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${dir}/src`);
    Deno.writeTextFileSync(`${dir}/src/hello.txt`, "hello\n");
    await buildIso(`${dir}/src`, `${dir}/out.iso`, quiet);
    const iso = Deno.readFileSync(`${dir}/out.iso`);
    // The primary volume descriptor: sector 16, "CD001" after its type byte.
    equal(new TextDecoder().decode(iso.subarray(16 * 2048 + 1, 16 * 2048 + 6)), "CD001");
    equal(new TextDecoder().decode(iso).includes("hello"), true);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
