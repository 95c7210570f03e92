import { equal, match, notEqual } from "node:assert/strict";
import { stableMac, stableUuid } from "./stable.ts";

Deno.test("a home's UUID is the same every time, differs between homes, and is well formed", async () => {
  const a = await stableUuid("/vms/a");
  equal(await stableUuid("/vms/a"), a);
  notEqual(await stableUuid("/vms/b"), a);
  match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

Deno.test("MAC prefixes are completed the same way every time, per home and interface", async () => {
  const m = await stableMac("52:54:00", "/vms/a", 1);
  match(m, /^52:54:00(:[0-9a-f]{2}){3}$/);
  equal(await stableMac("52:54:00:", "/vms/a", 1), m);
  notEqual(await stableMac("52:54:00", "/vms/a", 2), m);
  notEqual(await stableMac("52:54:00", "/vms/b", 1), m);
  equal(await stableMac("AA:BB:CC:DD:EE:FF", "/vms/a", 1), "aa:bb:cc:dd:ee:ff");
  // A first byte of its own is unicast and locally administered, as vmrndmac makes it.
  equal(parseInt((await stableMac("", "/vms/a", 1)).slice(0, 2), 16) & 0x03, 0x02);
});
