import { equal, ok } from "node:assert/strict";
import { after, sleep } from "./timer.ts";

Deno.test("sleep waits and after can be cancelled", async () => {
  const start = performance.now();
  await sleep(50);
  ok(performance.now() - start >= 45);
  let fired = 0;
  const cancel = after(20, () => fired++);
  after(20, () => fired += 10);
  cancel();
  await sleep(60);
  equal(fired, 10);
});
