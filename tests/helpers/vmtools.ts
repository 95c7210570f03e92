/**
 * Runs vmtools commands in tests exactly as users run them: through
 * `main.ts` under the shipped permission set (`-P=vmtools` from deno.json),
 * in a sandbox whose configuration roots, HOME and runtime directory are
 * fresh temporary directories.
 * @module
 */

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/** The project's root directory. */
export const PROJECT_ROOT = ROOT;

/** How the tests run vmtools: main.ts under the shipped permission set. */
export const VMTOOLS_COMMAND: readonly string[] = [
  `${ROOT}/.tools/bin/deno`,
  "run",
  "-q",
  "--no-prompt",
  "-P=vmtools",
  "--config",
  `${ROOT}/deno.json`,
  `${ROOT}/main.ts`,
];

/** The Deno cache the test runner uses (where scripts/setup put the npm packages). */
const DENO_DIR = Deno.env.get("DENO_DIR") ??
  `${Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME")}/.cache`}/deno`;

/** How long one vmtools command may run in a test (`Sandbox.run`) before it is killed and the test fails. */
const RUN_LIMIT_MS = 600_000;

/** Options for a small emulated guest with a VNC display (KVM is unreliable on our machines). */
export const SMALL_VM: readonly string[] = [
  "-o",
  "vm_qemu_accel=tcg",
  "-o",
  "vm_display_type=vnc",
  "-o",
  "vm_ram_size=32M",
];

/** Options for an emulated guest without any display. */
export const HEADLESS_TCG: readonly string[] = ["-o", "vm_qemu_accel=tcg", "-o", "vm_display_type=none"];

/** The thirteen command names, as links to the one program. */
export const COMMAND_NAMES: readonly string[] = [
  "vmup",
  "vmcreate",
  "vmdown",
  "vmps",
  "vminfo",
  "vmcp",
  "vmfork",
  "vmmerge",
  "vmmv",
  "vmrm",
  "vmfix",
  "vmmon",
  "vmrndmac",
];

/** Names every command must cope with (REFERENCE §8), as file and directory names. */
export const HOSTILE_NAMES: readonly string[] = [
  "foo",
  "[f]oo",
  ".foo",
  "foobar.iso",
  "*",
  ">",
  "\\",
  "$$",
  "foo,,bar",
  "foo bar",
  "tab\there",
  "it's",
  'dq"x',
  "back`tick",
  "fóò",
  "-",
  "--",
  "-n",
  " ",
];

/** What a command run produced. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A private world for one test: config roots, HOME, runtime dir, a work dir. */
export class Sandbox {
  readonly dir: string;
  readonly env: Record<string, string>;

  constructor(prefix = "vmtools-test-") {
    this.dir = Deno.makeTempDirSync({ prefix });
    for (const d of ["share", "etc", "home", "run", "work", "tmp"]) {
      Deno.mkdirSync(`${this.dir}/${d}`);
    }
    Deno.chmodSync(`${this.dir}/run`, 0o700);
    this.env = {
      VMTOOLS_SHARE_DIR: `${this.dir}/share`,
      VMTOOLS_ETC_DIR: `${this.dir}/etc`,
      HOME: `${this.dir}/home`,
      // Deno's cache as scripts/setup filled it: under the sandbox's HOME an
      // empty one would fetch the npm packages again at every command (~1 s).
      DENO_DIR: DENO_DIR,
      XDG_CONFIG_HOME: `${this.dir}/home/.config`,
      XDG_RUNTIME_DIR: `${this.dir}/run`,
      TMPDIR: `${this.dir}/tmp`,
      USER: "tester",
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      NO_COLOR: "1",
    };
  }

  /** The work directory commands run in. */
  get work(): string {
    return `${this.dir}/work`;
  }

  /** Writes a file below the sandbox (parents created). */
  write(rel: string, text: string): string {
    const path = rel.startsWith("/") ? rel : `${this.dir}/${rel}`;
    Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    Deno.writeTextFileSync(path, text);
    return path;
  }

  /** Runs `vmtools COMMAND ARGS…` (e.g. `run("vmup", "-n", "x")`). */
  run(command: string, ...args: string[]): Promise<RunResult> {
    return this.runWith({}, command, ...args);
  }

  /** Like {@linkcode run} with extra environment, stdin text, or another cwd. */
  async runWith(
    opts: { env?: Record<string, string>; stdin?: string; cwd?: string },
    command: string,
    ...args: string[]
  ): Promise<RunResult> {
    const child = this.spawn(
      { ...opts, stdin: opts.stdin === undefined ? "null" : "piped" },
      command,
      ...args,
    );
    // A command that hangs fails its test, naming it, instead of holding the whole suite.
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      try {
        child.kill("SIGKILL");
      } catch { /* it has just exited */ }
    }, RUN_LIMIT_MS);
    try {
      if (opts.stdin !== undefined) {
        const w = child.stdin.getWriter();
        await w.write(new TextEncoder().encode(opts.stdin));
        await w.close();
      }
      const out = await child.output();
      const dec = new TextDecoder();
      if (hung) {
        throw new Error(
          `${command} ${args.join(" ")}: still running after ${RUN_LIMIT_MS / 1000} s, killed; ` +
            `it had printed: ${dec.decode(out.stderr).slice(-2000)}`,
        );
      }
      return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Starts a vmtools command without waiting for it; stdout and stderr are
   * piped. `wrapper` runs it through another program (e.g. `setpriv …`).
   */
  spawn(
    opts: { env?: Record<string, string>; stdin?: "piped" | "null"; cwd?: string; wrapper?: string[] },
    command: string,
    ...args: string[]
  ): Deno.ChildProcess {
    const through = opts.wrapper ? reachableThrough(opts.wrapper) : undefined;
    const vmtools = through?.command ?? VMTOOLS_COMMAND;
    const [program, ...programArgs] = [...(opts.wrapper ?? []), ...vmtools, ...args];
    const cache: Record<string, string> = through ? { DENO_DIR: through.denoDir } : {};
    return new Deno.Command(program, {
      args: programArgs,
      env: { ...this.env, ...cache, VMTOOLS_ARGV0: command, ...opts.env },
      clearEnv: true,
      cwd: opts.cwd ?? this.work,
      stdin: opts.stdin ?? "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  }

  /** Kills every QEMU whose command line mentions this sandbox, then removes it. */
  async cleanup(): Promise<void> {
    await this.cleanupVms();
    Deno.removeSync(this.dir, { recursive: true });
  }

  /** Kills every QEMU whose command line mentions this sandbox. */
  async cleanupVms(): Promise<void> {
    const ps = await new Deno.Command("ps", {
      args: ["-e", "-ww", "-o", "pid=,args="],
      stdout: "piped",
    }).output();
    for (const line of new TextDecoder().decode(ps.stdout).split("\n")) {
      const m = /^\s*(\d+)\s+(.*)$/.exec(line);
      if (m && m[2].includes("qemu-system") && m[2].includes(this.dir)) {
        try {
          Deno.kill(Number(m[1]), "SIGKILL");
        } catch { /* already gone */ }
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polls `probe` until it returns a value or `timeoutMs` passes. */
export async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Reads a file, or `""` when it does not exist yet. */
export function readOr(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** How a wrapped user runs vmtools: the command, and a Deno cache of its own. */
interface Through {
  command: readonly string[];
  denoDir: string;
}

/** What each wrapper (another user, say) runs vmtools with; see {@linkcode reachableThrough}. */
const throughWrapper = new Map<string, Through>();

/**
 * How vmtools runs through a wrapper such as `setpriv --reuid=N …`:
 * {@linkcode VMTOOLS_COMMAND} when the wrapped user can read the project, or
 * else the same command in a copy of the project that everyone can read (a
 * checkout under root's private home, as on a CI machine, is out of another
 * user's reach). The runner's Deno cache is out of reach too, and without
 * one every command fetches the npm packages again (seconds): the wrapped
 * user gets a cache of its own, filled once for this test process.
 */
function reachableThrough(wrapper: string[]): Through {
  const key = wrapper.join("\0");
  const known = throughWrapper.get(key);
  if (known) return known;
  const deno = Deno.realPathSync(VMTOOLS_COMMAND[0]);
  const probe = new Deno.Command(wrapper[0], {
    args: [
      ...wrapper.slice(1),
      "test",
      "-r",
      `${ROOT}/deno.json`,
      "-a",
      "-r",
      `${ROOT}/main.ts`,
      "-a",
      "-x",
      deno,
    ],
  }).outputSync();
  const root = probe.success ? ROOT : readableCopy();
  const command = VMTOOLS_COMMAND.map((a) => a.replace(ROOT, root));
  // Filled as scripts/setup fills the runner's (an empty cache fetches the npm packages at every run).
  const denoDir = Deno.makeTempDirSync({ prefix: "vmtools-test-deno-" });
  globalThis.addEventListener("unload", () => Deno.removeSync(denoDir, { recursive: true }));
  for (const args of [["install", "-q", "--frozen"], ["cache", "-q", "main.ts"]]) {
    const out = new Deno.Command(command[0], { args, cwd: root, env: { DENO_DIR: denoDir }, stderr: "piped" })
      .outputSync();
    if (!out.success) throw new Error(`deno ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  new Deno.Command("chmod", { args: ["-R", "a+rwX", denoDir] }).outputSync();
  const through = { command, denoDir };
  throughWrapper.set(key, through);
  return through;
}

let copy: string | undefined;

/** A copy of the program (sources and the Deno binary) that every user can read, made once and removed at exit. */
function readableCopy(): string {
  if (copy) return copy;
  const dir = Deno.makeTempDirSync({ prefix: "vmtools-readable-" });
  const sh = (...args: string[]) => {
    const out = new Deno.Command(args[0], { args: args.slice(1), stderr: "piped" }).outputSync();
    if (!out.success) throw new Error(`${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  };
  const parts = ["main.ts", "deno.json", "deno.lock", "lib", "commands", "modules"].map((p) =>
    `${ROOT}/${p}`
  );
  sh("cp", "-r", ...parts, dir);
  Deno.mkdirSync(`${dir}/.tools/bin`, { recursive: true });
  sh("cp", Deno.realPathSync(VMTOOLS_COMMAND[0]), `${dir}/.tools/bin/deno`);
  sh("chmod", "-R", "a+rX", dir);
  globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
  copy = dir;
  return dir;
}
