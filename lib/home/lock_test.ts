import { equal, ok, rejects } from "node:assert/strict";
import { acquireLock, isLocked, lockHolder, tryLock } from "./lock.ts";
import { exists } from "../fs.ts";

function tempLockPath(): [string, string] {
  const dir = Deno.makeTempDirSync({ prefix: "vmtools-lock-" });
  return [dir, `${dir}/.vm.settings.lock`];
}

Deno.test("a held lock is waited for, then refused naming its holder; released, it is free", async () => {
  const [dir, path] = tempLockPath();
  try {
    const first = await acquireLock(path, 1);
    equal(lockHolder(path), Deno.pid);
    ok(isLocked(path));
    const start = Date.now();
    await rejects(acquireLock(path, 1), /locked by process \d+ \(waited 1s; see cfg_limit_waitlock\)/);
    ok(Date.now() - start >= 1000);
    first.release();
    equal(isLocked(path), false);
    equal(lockHolder(path), undefined);
    (await acquireLock(path, 0)).release();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a lock dies with its holder, even by SIGKILL", async () => {
  const [dir, path] = tempLockPath();
  try {
    const holder = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `Deno.openSync(${
          JSON.stringify(path)
        }, { write: true, create: true }).lockSync(true); setInterval(() => {}, 1000);`,
      ],
    }).spawn();
    await waitUntil(() => isLocked(path));
    await rejects(acquireLock(path, 0), /locked by another process/);
    holder.kill("SIGKILL");
    await holder.status;
    (await acquireLock(path, 1)).release();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("waiters on a released lock never both win, and a legacy symlink lock is replaced", async () => {
  const [dir, path] = tempLockPath();
  try {
    Deno.symlinkSync("12345", path);
    const first = await acquireLock(path, 1);
    let inside = 0, most = 0;
    const worker = async () => {
      const lock = await acquireLock(path, 5);
      most = Math.max(most, ++inside);
      await new Promise((r) => setTimeout(r, 5));
      inside--;
      lock.release();
    };
    const all = Promise.all(Array.from({ length: 8 }, worker));
    first.release();
    await all;
    equal(most, 1);
    equal(isLocked(path), false);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

async function waitUntil(probe: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !probe(); i++) await new Promise((r) => setTimeout(r, 50));
}

Deno.test("tryLock takes a free lock without waiting, and leaves a held one alone", async () => {
  const [dir, path] = tempLockPath();
  try {
    const first = await acquireLock(path, 0);
    equal(tryLock(path), undefined);
    ok(exists(path), "the holder's file stays");
    first.release();
    const second = tryLock(path);
    ok(second);
    equal(lockHolder(path), Deno.pid);
    second.release();
    equal(exists(path), false);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
