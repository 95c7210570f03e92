import { equal, rejects } from "node:assert/strict";
import { acquireLock, lockHolder } from "./lock.ts";

Deno.test("a live holder's lock is waited for, then refused; a dead holder's is taken over", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "vmtools-lock-" });
  const path = `${dir}/.vm.settings.lock`;
  try {
    const sleeper = new Deno.Command("sleep", { args: ["30"] }).spawn();
    Deno.symlinkSync(String(sleeper.pid), path);
    const start = Date.now();
    await rejects(acquireLock(path, 1), /locked by process \d+ \(waited 1s; see cfg_limit_waitlock\)/);
    equal(Date.now() - start >= 1000, true);
    sleeper.kill("SIGKILL");
    await sleeper.status;
    const lock = await acquireLock(path, 1);
    equal(lockHolder(path), Deno.pid);
    lock.release();
    equal(lockHolder(path), undefined);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
