import { equal, match, throws } from "node:assert/strict";
import { randomMac } from "./mac.ts";

Deno.test("randomMac completes prefixes and keeps them", () => {
  match(randomMac("52:54:00"), /^52:54:00(:[0-9a-f]{2}){3}$/);
  match(randomMac("52:54:00:"), /^52:54:00(:[0-9a-f]{2}){3}$/);
  equal(randomMac("AA:BB:CC:DD:EE:FF"), "aa:bb:cc:dd:ee:ff");
});

Deno.test("a random first byte is unicast and locally administered", () => {
  for (let i = 0; i < 200; i++) {
    const first = parseInt(randomMac("").slice(0, 2), 16);
    equal(first & 0x01, 0);
    equal(first & 0x02, 2);
  }
});

Deno.test("malformed prefixes are refused", () => {
  for (
    const bad of ["5", "52:5", "52:54:00:11:22:33:44", "zz", "52::54", "525400"]
  ) {
    throws(() => randomMac(bad), /hex pairs/, bad);
  }
});
