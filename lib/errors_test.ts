import { equal, ok } from "node:assert/strict";
import { describeError, isSystemError, UsageError, VmError, withoutDenoAdvice } from "./errors.ts";

/**
 * What the child below does, each under a permission set that refuses it.
 * The messages are Deno's own, so a change of their shape in a new Deno
 * shows up here.
 */
const ATTEMPTS = `
const results = {};
const attempt = async (name, f) => {
  try { await f(); results[name] = "allowed"; } catch (e) { results[name] = e.message; }
};
await attempt("read", () => Deno.readTextFileSync("/denied/file"));
await attempt("all", () => Deno.readTextFileSync("/proc/self/environ"));
await attempt("write", () => Deno.writeTextFileSync("/etc/vmtools/a\\nb", ""));
await attempt("run", () => new Deno.Command("sh").outputSync());
await attempt("ld", () => new Deno.Command("true", { env: { LD_PRELOAD: "x" } }).outputSync());
await attempt("kill", () => Deno.kill(1, "SIGCONT"));
await attempt("net", () => Deno.connect({ hostname: "127.0.0.1", port: 9 }));
await attempt("env", () => Deno.env.get("SECRET"));
await attempt("envAll", () => Deno.env.toObject());
await attempt("sys", () => Deno.osRelease());
await attempt("ffi", () => Deno.dlopen("libc.so.6", {}));
console.log(JSON.stringify(results));
`;

async function denoRefusals(): Promise<Record<string, string>> {
  const script = Deno.makeTempFileSync({ suffix: ".js" });
  try {
    Deno.writeTextFileSync(script, ATTEMPTS);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-q",
        "--no-prompt",
        "--no-config",
        "--allow-read",
        "--deny-read=/denied",
        "--allow-write",
        "--deny-write=/etc/vmtools",
        "--allow-run=true",
        "--allow-env=HOME",
        script,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    return JSON.parse(new TextDecoder().decode(out.stdout));
  } finally {
    Deno.removeSync(script);
  }
}

const SEE = "(outside its permission set; see vmtools(7) SECURITY)";

Deno.test("Deno's permission refusals say what vmtools may not do, in one line", async () => {
  const messages = await denoRefusals();
  const said = Object.fromEntries(
    Object.entries(messages).map(([k, m]) => [k, describeError(new Deno.errors.NotCapable(m))]),
  );
  equal(said.read, `vmtools may not read /denied/file ${SEE}`);
  equal(said.all, `vmtools may not access /proc/self/environ ${SEE}`);
  equal(said.write, `vmtools may not write to /etc/vmtools/a\\nb ${SEE}`);
  equal(said.run, `vmtools may not run sh ${SEE}`);
  equal(said.ld, `vmtools may not pass LD_PRELOAD to a program it runs ${SEE}`);
  equal(said.kill, `vmtools may not run programs or send signals without restriction ${SEE}`);
  equal(said.net, `vmtools may not use the network address 127.0.0.1:9 ${SEE}`);
  equal(said.env, `vmtools may not read the environment variable SECRET ${SEE}`);
  equal(said.envAll, `vmtools may not read the whole environment ${SEE}`);
  equal(said.sys, `vmtools may not query the system's osRelease ${SEE}`);
  equal(said.ffi, `vmtools may not load native code from libc.so.6 ${SEE}`);
  for (const line of Object.values(said)) ok(!/--allow|run again/.test(line), line);
});

Deno.test("an unknown refusal keeps Deno's words but not its advice", () => {
  equal(
    describeError(new Error('Requires magic access to "x", run again with the --allow-magic flag')),
    `vmtools may not do this: Requires magic access to "x" ${SEE}`,
  );
});

Deno.test("file system errors put the path first and stay on one line", () => {
  let caught: unknown;
  const file = Deno.makeTempFileSync();
  try {
    Deno.readDirSync(file);
  } catch (e) {
    caught = e;
  } finally {
    Deno.removeSync(file);
  }
  equal(describeError(caught), `readdir '${file}': Not a directory`);
  equal(
    describeError(new Deno.errors.NotFound("No such file or directory (os error 2): open '/a\nb'")),
    "open '/a\\nb': No such file or directory",
  );
  equal(describeError(new Error("first\nsecond")), "first");
  equal(describeError("plain"), "plain");
});

Deno.test("system errors are told apart from bugs", () => {
  ok(isSystemError(new Deno.errors.NotADirectory("x")));
  ok(isSystemError(new Deno.errors.NotCapable("x")));
  ok(isSystemError(new Deno.errors.AlreadyExists("x")));
  ok(!isSystemError(new Deno.errors.BadResource("x")));
  ok(!isSystemError(new TypeError("x")));
  ok(!isSystemError(new RangeError("x")));
  ok(!isSystemError(new VmError("x")));
  ok(!isSystemError(new UsageError("x")));
  ok(!isSystemError("x"));
});

Deno.test("a refusal quoted inside a longer message is rewritten in place", () => {
  equal(
    withoutDenoAdvice(
      '/dev/sdz: cannot open: Requires all access to "/dev/sdz", run again with the --allow-all flag',
    ),
    `/dev/sdz: cannot open: vmtools may not access /dev/sdz ${SEE}`,
  );
  equal(withoutDenoAdvice("nothing to do"), "nothing to do");
});
