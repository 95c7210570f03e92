import { equal } from "node:assert/strict";
import { isIsoHead } from "./remote.ts";

Deno.test("an ISO 9660 volume descriptor is told by CD001 at 32 KiB + 1", () => {
  const head = new Uint8Array(0x8800);
  equal(isIsoHead(head), false);
  head.set(new TextEncoder().encode("\x01CD001\x01"), 0x8000);
  equal(isIsoHead(head), true);
  equal(isIsoHead(head.subarray(0, 0x8005)), false, "too short to hold it");
});
