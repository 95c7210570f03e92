/**
 * `vmtools --install-links DIR`: the installed program links its command
 * names wherever the user asks, to itself — the launcher of scripts/install
 * here, the compiled executable where one can be built (DENORT_BIN) — and
 * scripts/compile builds for a given target.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { COMMAND_NAMES, PROJECT_ROOT, readOr, type RunResult, Sandbox } from "../helpers/vmtools.ts";
import { installInto } from "../helpers/install.ts";

const decoder = new TextDecoder();

/** Runs `program` as a user would: the sandbox's environment only, in its work directory. */
async function runProgram(sb: Sandbox, program: string, ...args: string[]): Promise<RunResult> {
  const out = await new Deno.Command(program, {
    args,
    cwd: sb.work,
    env: { ...sb.env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** The symbolic links in `dir`, as `name -> text`, and other entries by name. */
function listing(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) =>
    e.isSymlink ? `${e.name} -> ${Deno.readLinkSync(`${dir}/${e.name}`)}` : e.name
  ).sort();
}

/** What `--install-links` must leave in a directory: every name linked to `target`. */
function allLinked(target: string): string[] {
  return COMMAND_NAMES.map((n) => `${n} -> ${target}`).sort();
}

/** The checks an installed executable `exe` must pass, the launcher's and the compiled one's alike. */
async function checkInstallLinks(sb: Sandbox, exe: string): Promise<void> {
  const links = `${sb.dir}/home/.local/bin`; // does not exist yet
  const first = await runProgram(sb, exe, "--install-links", links);
  equal(first.code, 0, first.stderr);
  equal(first.stderr, `13 command links in ${links} lead to ${exe} (13 made)\n`);
  deepEqual(listing(links), allLinked(exe));
  match((await runProgram(sb, `${links}/vmrndmac`)).stdout, /^52:54:00(:[0-9a-f]{2}){3}\n$/);
  match((await runProgram(sb, `${links}/vmps`, "-h")).stdout, /^Usage: vmps /);

  const again = await runProgram(sb, exe, "--install-links", links);
  equal(again.code, 0, again.stderr);
  equal(again.stderr, `the 13 command links in ${links} already lead to ${exe}\n`);
  deepEqual(listing(links), allLinked(exe));

  // Something else of a command's name: one line, nothing made; --force replaces it.
  const other = `${sb.work}/other`;
  Deno.mkdirSync(other);
  Deno.writeTextFileSync(`${other}/vmps`, "#!/bin/sh\necho mine\n");
  Deno.symlinkSync("/usr/bin/true", `${other}/vmup`);
  const refused = await runProgram(sb, exe, "--install-links=./other");
  equal(refused.code, 1);
  equal(
    refused.stderr,
    `vmtools: nothing linked in ${other}: in the way: vmup (a link to /usr/bin/true), vmps (a file) ` +
      "(--force replaces them)\n",
  );
  deepEqual(listing(other), ["vmps", "vmup -> /usr/bin/true"]);
  const forced = await runProgram(sb, exe, "-v", "--force", "--install-links", "other");
  equal(forced.code, 0, forced.stderr);
  match(forced.stderr, new RegExp(`^${other}/vmps -> ${exe} \\(was a file\\)$`, "m"));
  match(forced.stderr, /\(11 made, 2 replaced\)\n$/);
  deepEqual(listing(other), allLinked(exe));
  equal(readOr(`${other}/vmps`), readOr(exe));
}

Deno.test("the launcher links its command names to itself: anywhere, again, and over what --force replaces", async () => {
  const sb = new Sandbox();
  try {
    const prefix = `${sb.dir}/prefix`;
    await installInto(prefix);
    const exe = `${prefix}/bin/vmtools`;
    await checkInstallLinks(sb, exe);

    // By a relative path, and through a link of the user's own: still the launcher.
    const relative = await runProgram(
      sb,
      "bash",
      "-c",
      'cd "$1" && ./bin/vmtools -q --install-links "$2"',
      "-",
      prefix,
      "../work/rel",
    );
    equal(relative.code, 0, relative.stderr);
    equal(relative.stderr, "", "-q: nothing to say");
    deepEqual(listing(`${sb.work}/rel`), allLinked(exe));
    Deno.symlinkSync(exe, `${sb.work}/my-vmtools`);
    const linked = await runProgram(sb, `${sb.work}/my-vmtools`, "--install-links", "rel2");
    equal(linked.code, 0, linked.stderr);
    deepEqual(listing(`${sb.work}/rel2`), allLinked(exe));

    // Its own directory: the links scripts/install made are the ones it would make.
    const own = await runProgram(sb, exe, "--install-links", `${prefix}/bin`);
    equal(own.code, 0, own.stderr);
    equal(own.stderr, `the 13 command links in ${prefix}/bin already lead to ${exe}\n`);
    // They are the installed program's own files, which the permission set denies it.
    Deno.removeSync(`${prefix}/bin/vmmon`);
    const denied = await runProgram(sb, exe, "--install-links", `${prefix}/bin`, "--force");
    equal(denied.code, 1);
    equal(
      denied.stderr,
      `vmtools: nothing linked in ${prefix}/bin: vmtools may not write to vmmon ` +
        "(outside its permission set; see vmtools(7) SECURITY)\n",
    );
    equal(listing(`${prefix}/bin`).includes("vmmon -> vmtools"), false);

    const usage = await runProgram(sb, exe, "--force");
    equal(usage.code, 2);
    equal(usage.stderr, "vmtools: --force goes with --install-links DIR\nTry 'vmtools -h' for help.\n");
    const missing = await runProgram(sb, exe, "--install-links");
    equal(missing.code, 2);
    match(missing.stderr, /^vmtools: option '--install-links' needs a value\n/);
    const help = await runProgram(sb, exe, "--force", "-h");
    equal(help.code, 0, help.stderr);
    match(help.stdout, /^Usage: vmtools \[-hqv\] --install-links DIR \[--force\]\n/);
    match(help.stdout, /\nSee vmtools\(7\)\.\n$/);
    ok(help.stdout.split("\n").every((l) => l.length <= 80), help.stdout);
    match((await runProgram(sb, exe, "-h")).stdout, /^ +vmtools --install-links DIR \[--force\]$/m);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("under deno run there is no executable to link to: one line, nothing made", async () => {
  const sb = new Sandbox();
  try {
    const r = await sb.run("vmtools", "--install-links", `${sb.work}/bin`);
    equal(r.code, 1);
    match(
      r.stderr,
      /^vmtools: this vmtools runs under 'deno run', with no executable of its own to link to; /,
    );
    equal(r.stderr.split("\n").length, 2, "one line");
    deepEqual(listing(sb.work), []);
  } finally {
    await sb.cleanup();
  }
});

const DENORT_BIN = Deno.env.get("DENORT_BIN");
if (!DENORT_BIN) {
  console.log(
    "install_links_test: DENORT_BIN is not set, so no compiled vmtools can be built here: " +
      "its --install-links is not tested",
  );
}

Deno.test({
  name: "a compiled vmtools links its command names to itself",
  ignore: !DENORT_BIN,
  async fn() {
    const sb = new Sandbox();
    try {
      const exe = `${sb.dir}/dist/vmtools-${Deno.build.arch}-linux`;
      const built = await new Deno.Command("bash", {
        args: [`${PROJECT_ROOT}/scripts/compile`, "--target", `${Deno.build.arch}-unknown-linux-gnu`, exe],
        stdout: "piped",
        stderr: "piped",
      }).output();
      equal(built.code, 0, decoder.decode(built.stderr));
      await checkInstallLinks(sb, exe);
    } finally {
      await sb.cleanup();
    }
  },
});

Deno.test("scripts/compile --target: two Linux targets, and a runtime for the wrong one is refused", async () => {
  const sb = new Sandbox();
  try {
    const compile = async (env: Record<string, string>, ...args: string[]) => {
      const out = await new Deno.Command("bash", {
        args: [`${PROJECT_ROOT}/scripts/compile`, ...args],
        env,
        stdout: "piped",
        stderr: "piped",
      }).output();
      return { code: out.code, stderr: decoder.decode(out.stderr) };
    };
    const bad = await compile({}, "--target", "x86_64-pc-windows-msvc", `${sb.dir}/x`);
    equal(bad.code, 1);
    match(
      bad.stderr,
      /--target x86_64-pc-windows-msvc: vmtools is built for x86_64-unknown-linux-gnu and aarch64/,
    );
    // The deno CLI is a runtime for this machine's architecture only.
    const other = Deno.build.arch === "x86_64" ? "aarch64" : "x86_64";
    const deno = Deno.realPathSync(`${PROJECT_ROOT}/.tools/bin/deno`);
    const wrong = await compile(
      { DENORT_BIN: deno },
      "--target",
      `${other}-unknown-linux-gnu`,
      `${sb.dir}/dist/x`,
    );
    equal(wrong.code, 1);
    match(wrong.stderr, new RegExp(`the built executable is not one for ${other}-unknown-linux-gnu`));
    equal(readOr(`${sb.dir}/dist/x`), "", "nothing left behind");
  } finally {
    await sb.cleanup();
  }
});
