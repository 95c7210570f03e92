import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { Logger, type Output } from "../ui/log.ts";
import { Change, withChange } from "./change.ts";
import { backupDirsIn, recoverChanges } from "./recover.ts";
import { exists } from "../fs.ts";

const PATTERN = "vmtools-backup.XXXXXXXXXX";

function quietLog(): { log: Logger; text: () => string } {
  let text = "";
  const output: Output = {
    out: (t) => void (text += t),
    err: (t) => void (text += t),
    errIsTerminal: false,
    inIsTerminal: false,
  };
  return { log: new Logger("test", 2, output), text: () => text };
}

/** Every file below `dir` with its content, for before/after comparisons. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of Deno.readDirSync(d)) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) {
        out[p + "/"] = "";
        walk(p);
      } else out[p] = Deno.readTextFileSync(p);
    }
  };
  walk(dir);
  return out;
}

function scratch(): string {
  const dir = Deno.makeTempDirSync({ prefix: "vmtools-change-" });
  Deno.writeTextFileSync(`${dir}/settings`, "original\n");
  return dir;
}

async function steps(change: Change, dir: string): Promise<void> {
  change.mkdirs(`${dir}/a/b`);
  change.create(`${dir}/a/b/new`);
  Deno.writeTextFileSync(`${dir}/a/b/new`, "new");
  change.keep(`${dir}/settings`);
  Deno.writeTextFileSync(`${dir}/settings`, "changed\n");
  change.rename(`${dir}/a/b/new`, `${dir}/renamed`);
  await Promise.resolve();
}

Deno.test("a committed change keeps its work and leaves no backup directory", async () => {
  const dir = scratch();
  try {
    await withChange(dir, { pattern: PATTERN, label: "test", log: quietLog().log }, (c) => steps(c, dir));
    equal(Deno.readTextFileSync(`${dir}/settings`), "changed\n");
    equal(Deno.readTextFileSync(`${dir}/renamed`), "new");
    deepEqual(backupDirsIn(dir, PATTERN), []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a failing change is undone step by step, last first", async () => {
  const dir = scratch();
  try {
    const before = snapshot(dir);
    await rejects(
      withChange(dir, { pattern: PATTERN, label: "test", log: quietLog().log }, async (c) => {
        await steps(c, dir);
        throw new Error("boom");
      }),
      /boom/,
    );
    deepEqual(snapshot(dir), before);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("create and rename refuse to overwrite what exists", () => {
  const dir = scratch();
  try {
    Deno.writeTextFileSync(`${dir}/other`, "other\n");
    const c = Change.begin(dir, { pattern: PATTERN, label: "test", log: quietLog().log });
    throws(() => c.create(`${dir}/settings`), /settings: already exists; not overwriting it/);
    throws(() => c.rename(`${dir}/other`, `${dir}/settings`), /settings: already exists/);
    c.revert();
    equal(Deno.readTextFileSync(`${dir}/settings`), "original\n");
    equal(Deno.readTextFileSync(`${dir}/other`), "other\n");
    deepEqual(backupDirsIn(dir, PATTERN), []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

const SCRIPT = (dir: string) => `
import { withChange } from ${JSON.stringify(new URL("./change.ts", import.meta.url).href)};
import { Logger } from ${JSON.stringify(new URL("../ui/log.ts", import.meta.url).href)};
const dir = ${JSON.stringify(dir)};
await withChange(dir, { pattern: ${
  JSON.stringify(PATTERN)
}, label: "scripted", log: new Logger("t", 2) }, async (c) => {
  c.mkdirs(dir + "/a/b");
  c.create(dir + "/a/b/new");
  Deno.writeTextFileSync(dir + "/a/b/new", "new");
  c.keep(dir + "/settings");
  Deno.writeTextFileSync(dir + "/settings", "changed\\n");
  const helper = c.spawn("sleep", ["60"], { stdin: "null", stdout: "null", stderr: "null" });
  Deno.writeTextFileSync(dir + "/../helper-pid", String(helper.pid));
  c.create(dir + "/last");
  Deno.writeTextFileSync(dir + "/last", "x");
  if (Deno.env.get("WAIT")) { console.log("ready"); await new Promise((r) => setTimeout(r, 60000)); }
});
`;

function runScript(dir: string, env: Record<string, string>): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", SCRIPT(dir)],
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function alive(pid: number): Promise<boolean> {
  const r = await new Deno.Command("ps", { args: ["-o", "stat=", "-p", String(pid)], stdout: "piped" })
    .output();
  return r.success && !new TextDecoder().decode(r.stdout).trim().startsWith("Z");
}

Deno.test("a change killed at any step is undone by the next run, its helper stopped", async () => {
  for (let step = 1; step <= 6; step++) {
    const top = Deno.makeTempDirSync({ prefix: "vmtools-change-" });
    const dir = `${top}/home`;
    Deno.mkdirSync(dir);
    Deno.writeTextFileSync(`${dir}/settings`, "original\n");
    try {
      const before = snapshot(dir);
      const child = runScript(dir, { VMTOOLS_FAULT: `${step}:kill` });
      const status = await child.output();
      equal(status.signal, "SIGKILL", `step ${step}: ${new TextDecoder().decode(status.stderr)}`);
      equal(backupDirsIn(dir, PATTERN).length, 1, `step ${step}: the journal stays`);
      let helper = 0;
      try {
        helper = Number(Deno.readTextFileSync(`${top}/helper-pid`));
      } catch { /* killed before the helper started */ }
      const { log } = quietLog();
      const [rec] = await recoverChanges(dir, PATTERN, log);
      equal(rec.outcome, "reverted", `step ${step}`);
      deepEqual(snapshot(dir), before, `step ${step}: back to the state before`);
      if (helper) ok(!(await alive(helper)), `step ${step}: the helper was stopped`);
    } finally {
      Deno.removeSync(top, { recursive: true });
    }
  }
});

Deno.test("an injected failure is undone at once; SIGINT undoes and exits 130", async () => {
  const top = Deno.makeTempDirSync({ prefix: "vmtools-change-" });
  const dir = `${top}/home`;
  Deno.mkdirSync(dir);
  Deno.writeTextFileSync(`${dir}/settings`, "original\n");
  try {
    const before = snapshot(dir);
    const failed = await runScript(dir, { VMTOOLS_FAULT: "5:fail" }).output();
    equal(failed.code, 1);
    ok(new TextDecoder().decode(failed.stderr).includes("injected fault at step 5"));
    deepEqual(snapshot(dir), before);

    const child = runScript(dir, { WAIT: "1" });
    const reader = child.stdout.getReader();
    await reader.read(); // "ready"
    reader.releaseLock();
    const helper = Number(Deno.readTextFileSync(`${top}/helper-pid`));
    child.kill("SIGINT");
    const out = await child.output();
    equal(out.code, 130);
    ok(new TextDecoder().decode(out.stderr).includes("interrupted: reverted: scripted"));
    deepEqual(snapshot(dir), before);
    ok(!(await alive(helper)), "the helper was stopped");
  } finally {
    Deno.removeSync(top, { recursive: true });
  }
});

Deno.test("trash: deleted for good on commit, back on undo, also on another file system", async () => {
  const dir = scratch();
  const other = Deno.makeTempDirSync({ dir: "/dev/shm", prefix: "vmtools-change-" });
  try {
    Deno.mkdirSync(`${dir}/tree/sub`, { recursive: true });
    Deno.writeTextFileSync(`${dir}/tree/sub/f`, "f");
    Deno.writeTextFileSync(`${other}/g`, "g");
    const before = { here: snapshot(dir), there: snapshot(other) };
    await rejects(
      withChange(dir, { pattern: PATTERN, label: "t", log: quietLog().log }, () => {
        const c = Change.begin(dir, { pattern: PATTERN, label: "inner", log: quietLog().log });
        c.trash(`${dir}/tree`);
        c.trash(`${other}/g`);
        equal(exists(`${dir}/tree`), false);
        c.revert();
        throw new Error("undone");
      }),
      /undone/,
    );
    deepEqual({ here: snapshot(dir), there: snapshot(other) }, before);
    await withChange(dir, { pattern: PATTERN, label: "t", log: quietLog().log }, (c) => {
      c.trash(`${dir}/tree`);
      c.trash(`${other}/g`);
      return Promise.resolve();
    });
    deepEqual(snapshot(dir), { [`${dir}/settings`]: "original\n" });
    deepEqual(snapshot(other), {}, "the backup directory beside it is gone too");
  } finally {
    Deno.removeSync(dir, { recursive: true });
    Deno.removeSync(other, { recursive: true });
  }
});

Deno.test("undoing a deletion whose place is taken again keeps the original and the journal", () => {
  const dir = scratch();
  try {
    const { log } = quietLog();
    const c = Change.begin(dir, { pattern: PATTERN, label: "test", log });
    c.trash(`${dir}/settings`);
    // Something made anew where the deleted file was (another command, after a kill).
    Deno.writeTextFileSync(`${dir}/settings`, "new\n");
    const problems = c.revert();
    equal(problems.length, 1);
    equal(Deno.readTextFileSync(`${dir}/settings`), "new\n");
    const [backup] = backupDirsIn(dir, PATTERN);
    ok(backup, "the backup directory stays");
    const kept = [...Deno.readDirSync(backup)].map((e) => e.name).filter((n) => n.endsWith("-settings"));
    equal(Deno.readTextFileSync(`${backup}/${kept[0]}`), "original\n");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
