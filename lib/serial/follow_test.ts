import { equal, match, ok } from "node:assert/strict";
import { VmError } from "../errors.ts";
import { followLog } from "./follow.ts";
import { textSink } from "./testing.ts";

Deno.test("followLog prints the log, then what is added, until the VM stops", async () => {
  const dir = Deno.makeTempDirSync();
  const monitor = Deno.listen({ transport: "unix", path: `${dir}/monitor.sock` });
  const accepting = (async () => {
    try {
      for await (const c of monitor) c.close();
    } catch { /* closed */ }
  })();
  try {
    const log = `${dir}/serial.log`;
    Deno.writeTextFileSync(log, "booting\n");
    const out = textSink();
    const notices: string[] = [];
    const following = followLog(log, {
      label: "vm",
      monitor: `${dir}/monitor.sock`,
      stdout: out,
      notice: (t) => notices.push(t),
      pollMs: 20,
      checkMs: 50,
    });
    await new Promise((r) => setTimeout(r, 150));
    Deno.writeTextFileSync(log, "login: ", { append: true });
    await new Promise((r) => setTimeout(r, 150));
    // A restart truncates the log: following starts over.
    Deno.writeTextFileSync(log, "again\n");
    await new Promise((r) => setTimeout(r, 150));
    monitor.close();
    Deno.removeSync(`${dir}/monitor.sock`);
    equal(await following, 0);
    equal(out.text, "booting\nlogin: again\n");
    match(notices.join(""), /started over/);
  } finally {
    try {
      monitor.close();
    } catch { /* closed above */ }
    await accepting;
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("followLog of a stopped VM prints the last log once; no log is an error", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const out = textSink();
    const opts = {
      label: "vm",
      monitor: `${dir}/monitor.sock`,
      stdout: out,
      notice: () => {},
    };
    try {
      await followLog(`${dir}/serial.log`, opts);
      throw new Error("no error");
    } catch (e) {
      equal(e instanceof VmError, true, String(e));
    }
    Deno.writeTextFileSync(`${dir}/serial.log`, "last run\n");
    equal(await followLog(`${dir}/serial.log`, opts), 0);
    equal(out.text, "last run\n");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("followLog refuses a FIFO where the log should be instead of blocking on it", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const fifo = `${dir}/serial.log`;
    equal((await new Deno.Command("mkfifo", { args: [fifo] }).output()).code, 0);
    // Opening it would block until this writer came, then print what it wrote.
    const writer = new Deno.Command("sh", { args: ["-c", 'sleep 1; echo written > "$0"', fifo] }).spawn();
    try {
      const out = textSink();
      const err = await followLog(fifo, {
        label: "vm",
        monitor: `${dir}/monitor.sock`,
        stdout: out,
        notice: () => {},
      }).then(() => undefined, (e) => e);
      ok(err instanceof VmError, String(err));
      equal(err.message, `${fifo}: not a regular file, so not a serial log`);
      equal(out.text, "");
    } finally {
      writer.kill("SIGKILL");
      await writer.status;
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
