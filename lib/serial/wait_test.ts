import { equal, rejects } from "node:assert/strict";
import { VmError } from "../errors.ts";
import { LineMatcher } from "./expect.ts";
import { waitInLog } from "./wait.ts";

const dirs: string[] = [];
globalThis.addEventListener("unload", () => dirs.forEach((d) => Deno.removeSync(d, { recursive: true })));

function tempLog(text: string): string {
  const dir = Deno.makeTempDirSync({ prefix: "vmtools-wait-" });
  dirs.push(dir);
  Deno.writeTextFileSync(`${dir}/serial.log`, text);
  return `${dir}/serial.log`;
}

Deno.test("what the log already holds counts; what is appended later too", async () => {
  const log = tempLog("BIOS\nready-1\n");
  equal(
    await waitInLog(log, new LineMatcher(/^ready-1$/), { label: "vm", running: () => Promise.resolve(true) }),
    "ready-1",
  );
  const waiting = waitInLog(log, new LineMatcher(/^ready-2$/), {
    label: "vm",
    running: () => Promise.resolve(true),
    pollMs: 10,
  });
  Deno.writeTextFileSync(log, "ready-2\n", { append: true });
  equal(await waiting, "ready-2");
});

Deno.test("from the end, only new output counts, and it is passed on as read", async () => {
  const log = tempLog("# \n");
  let seen = "";
  const waiting = waitInLog(log, new LineMatcher(/# $/), {
    label: "vm",
    running: () => Promise.resolve(true),
    fromEnd: true,
    pollMs: 10,
    onOutput: (b) => Promise.resolve(void (seen += new TextDecoder().decode(b))),
  });
  Deno.writeTextFileSync(log, "uname\nLinux\n~ # ", { append: true });
  equal(await waiting, "~ # ");
  equal(seen, "uname\nLinux\n~ # ");
});

Deno.test("time up or VM stopped: one line each, the timeout saying the VM is left running", async () => {
  const log = tempLog("nothing\n");
  await rejects(
    waitInLog(log, new LineMatcher(/never/), {
      label: "vm1",
      timeoutMs: 200,
      running: () => Promise.resolve(true),
    }),
    (e) =>
      e instanceof VmError &&
      /^vm1: no line matching \/never\/ .* within 0\.2 s; the VM is left running/.test(e.message),
  );
  await rejects(
    waitInLog(log, new LineMatcher(/never/), { label: "vm1", running: () => Promise.resolve(false) }),
    (e) => e instanceof VmError && /^vm1: the VM stopped before its serial console printed/.test(e.message),
  );
});

Deno.test("a FIFO where the log should be is refused at once, not waited on", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "vmtools-wait-" });
  dirs.push(dir);
  const fifo = `${dir}/serial.log`;
  equal((await new Deno.Command("mkfifo", { args: [fifo] }).output()).code, 0);
  // Opening it would block until this writer came (no timeout ends a blocked open), then read its line.
  const writer = new Deno.Command("sh", { args: ["-c", 'sleep 1; echo ready > "$0"', fifo] }).spawn();
  try {
    await rejects(
      waitInLog(fifo, new LineMatcher(/ready/), {
        label: "vm",
        timeoutMs: 5000,
        running: () => Promise.resolve(true),
      }),
      (e) => e instanceof VmError && e.message === `${fifo}: not a regular file, so not a serial log`,
    );
  } finally {
    writer.kill("SIGKILL");
    await writer.status;
  }
});
