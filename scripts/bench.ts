/**
 * Start-up and per-command timings of an installed vmtools. A benchmark, not
 * a test: it reports, it never judges. Run through `scripts/bench`, which
 * installs into a temporary PREFIX first.
 *
 * deno run -A scripts/bench.ts --prefix DIR --work DIR --root DIR
 *   [--deno PATH] [--runs 15] [--warmup 2] [--only LABEL]
 *
 * `--only LABEL` times only the rows whose label starts with LABEL (e.g.
 * `--only vmps`), against the baseline, and skips the other sections.
 *
 * @module
 */

interface Options {
  prefix: string;
  work: string;
  root: string;
  deno: string;
  runs: number;
  warmup: number;
  /** Only the rows whose label starts with this. */
  only?: string;
}

interface Row {
  label: string;
  /** The baseline's median measured alongside, when there is one. */
  baseline?: number;
  /** Median, min, max in ms; absent when the row could not run. */
  stats?: { median: number; min: number; max: number };
  samples?: number[];
  note?: string;
  target?: number;
  original?: number;
}

function parseOptions(args: string[]): Options {
  const o: Record<string, string> = { runs: "15", warmup: "2" };
  for (let i = 0; i < args.length; i += 2) {
    const key = args[i]?.replace(/^--/, "");
    if (!key || args[i + 1] === undefined) {
      throw new Error(`bad argument ${args[i]}`);
    }
    o[key] = args[i + 1];
  }
  for (const k of ["prefix", "work", "root"]) {
    if (!o[k]) throw new Error(`--${k} is required`);
  }
  return {
    prefix: o.prefix,
    work: o.work,
    root: o.root,
    deno: o.deno ?? Deno.execPath(),
    runs: Number(o.runs),
    warmup: Number(o.warmup),
    only: o.only,
  };
}

const opts = parseOptions(Deno.args);
const bin = `${opts.prefix}/bin`;
const home = `${opts.prefix}/lib/vmtools`; // the launcher's files, if any
const launcher = await exists(`${home}/main.ts`);
const work = opts.work;

// Every child sees empty configuration roots and a private HOME, so the
// numbers do not depend on the machine's /etc or the user's files.
const env: Record<string, string> = {
  HOME: `${work}/home`,
  XDG_CONFIG_HOME: `${work}/home/.config`,
  XDG_RUNTIME_DIR: `${work}/run`,
  VMTOOLS_SHARE_DIR: `${work}/share`,
  VMTOOLS_ETC_DIR: `${work}/etc`,
  TMPDIR: `${work}/tmp`,
  PATH: `${bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
  DENO_DIR: `${work}/deno-dir`, // the baseline's; the launcher sets its own
  DENO_NO_UPDATE_CHECK: "1",
  NO_COLOR: "1",
};
for (
  const key of [
    "HOME",
    "XDG_CONFIG_HOME",
    "XDG_RUNTIME_DIR",
    "VMTOOLS_SHARE_DIR",
    "VMTOOLS_ETC_DIR",
    "TMPDIR",
  ]
) {
  await Deno.mkdir(env[key], { recursive: true, mode: 0o700 });
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

interface RunResult {
  ms: number;
  code: number;
  out: string;
  err: string;
}

async function run(
  cmd: string[],
  extraEnv: Record<string, string> = {},
): Promise<RunResult> {
  const command = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: work,
    env: { ...env, ...extraEnv },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const start = performance.now();
  const res = await command.output();
  const ms = performance.now() - start;
  const dec = new TextDecoder();
  return {
    ms,
    code: res.code,
    out: dec.decode(res.stdout),
    err: dec.decode(res.stderr),
  };
}

function firstLine(r: RunResult): string {
  const line = (r.err.trim() || r.out.trim()).split("\n")[0] ?? "";
  return line.length > 70 ? `${line.slice(0, 67)}...` : line;
}

interface Spec {
  label: string;
  /** The command line of run number i (warm-ups included, from 0). */
  cmd: (i: number) => string[];
  extra?: Partial<Row>;
  env?: Record<string, string>;
}

function stats(samples: number[]): Row["stats"] {
  samples.sort((a, b) => a - b);
  const mid = samples.length >> 1;
  const median = samples.length % 2 ? samples[mid] : (samples[mid - 1] + samples[mid]) / 2;
  return { median, min: samples[0], max: samples[samples.length - 1] };
}

/**
 * Time each spec warmup + runs times. The specs take turns, one run each
 * round, so that a change in the machine's load hits all of them alike. A
 * spec whose run fails drops out with a note instead of numbers.
 */
async function measureAll(specs: Spec[]): Promise<Row[]> {
  const samples: number[][] = specs.map(() => []);
  const notes: (string | undefined)[] = specs.map(() => undefined);
  for (let i = 0; i < opts.warmup + opts.runs; i++) {
    for (const [k, spec] of specs.entries()) {
      if (notes[k]) continue;
      const r = await run(spec.cmd(i), spec.env);
      if (r.code !== 0) notes[k] = `exit ${r.code}: ${firstLine(r)}`;
      else if (i >= opts.warmup) samples[k].push(r.ms);
    }
  }
  return specs.map((spec, k) => {
    const row: Row = { label: spec.label, ...spec.extra };
    if (notes[k]) return { ...row, note: notes[k] };
    row.samples = samples[k];
    row.stats = stats([...samples[k]]);
    console.error(`  ${spec.label}: ${row.stats?.median.toFixed(1)} ms`);
    return row;
  });
}

/**
 * Time one command, taking turns with the baseline: the row keeps the
 * baseline's median of the same rounds, so its ratio is fair even when the
 * machine's load changes between rows.
 */
async function measure(
  label: string,
  cmd: (i: number) => string[],
  extra: Partial<Row> = {},
): Promise<Row> {
  if (!wanted(label)) return { label, ...extra, note: "skipped: --only" };
  const [base, row] = await measureAll([
    { label: "baseline", cmd: baseCmd },
    { label, cmd, extra },
  ]);
  baseSamples.push(...base.samples ?? []);
  return { ...row, baseline: base.stats?.median };
}

/** Whether `--only` lets a row run. */
function wanted(label: string): boolean {
  return opts.only === undefined || label.startsWith(opts.only);
}

function table(title: string, rows: Row[], baseline?: number): void {
  const header = ["command", "median ms", "min ms", "x baseline"];
  const lines = rows.map((r) => {
    const s = r.stats;
    const ref = r.baseline ?? baseline;
    return [
      r.label,
      s ? s.median.toFixed(1) : "-",
      s ? s.min.toFixed(1) : "-",
      s && ref ? (s.median / ref).toFixed(2) : "-",
    ];
  });
  // Targets and the original tool's times only where some row has them.
  if (rows.some((r) => r.target !== undefined || r.original !== undefined)) {
    header.push("target ms", "original ms");
    rows.forEach((r, i) => lines[i].push(String(r.target ?? "-"), String(r.original ?? "-")));
  }
  const width = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c].length)));
  const fmt = (cells: string[]) =>
    cells.map((cell, c) => c === 0 ? cell.padEnd(width[c]) : cell.padStart(width[c])).join("  ");
  console.log(`\n${title}`);
  console.log(fmt(header));
  for (const [i, l] of lines.entries()) {
    console.log(fmt(l));
    if (rows[i].note) console.log(`    (${rows[i].note})`);
  }
}

/** Pids of the QEMU processes whose command line mentions our work dir. */
async function ourQemus(): Promise<number[]> {
  const pids: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const argv = (await Deno.readTextFile(`/proc/${entry.name}/cmdline`))
        .split("\0");
      if (/qemu-system-/.test(argv[0]) && argv.some((a) => a.includes(work))) {
        pids.push(Number(entry.name));
      }
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

// ---------------------------------------------------------------- fixtures

const fixture = `${opts.root}/tests/fixtures/bootsector.ts`;
let haveDisks = false;
if (await exists(fixture)) {
  const made = await Promise.all(
    ["disk.img", "boot1.img", "boot2.img", "boot3.img"].map((name) =>
      run([
        opts.deno,
        "run",
        "-q",
        "-A",
        fixture,
        `${work}/${name}`,
        `bench ${name}`,
        "raw",
      ])
    ),
  );
  haveDisks = made.every((r) => r.code === 0);
  if (!haveDisks) {
    console.error(`bench: fixture failed: ${made.map(firstLine).join("; ")}`);
  }
}
await Deno.writeTextFile(`${work}/empty.ts`, "");
/** The reference: Deno starting and running nothing. */
function baseCmd(): string[] {
  return [opts.deno, "run", `${work}/empty.ts`];
}

// ------------------------------------------------------------- the commands

console.error(
  `bench: ${opts.runs} runs after ${opts.warmup} warm-ups each; installed as ${
    launcher ? "launcher" : "compiled executable"
  }`,
);
const noDisk = "skipped: no boot-sector disk (tests/fixtures/bootsector.ts missing or failing)";
/** Every baseline run of the paired measurements. */
const baseSamples: number[] = [];
const rows: Row[] = [];
rows.push(
  await measure("vmrndmac", () => [`${bin}/vmrndmac`], { original: 20 }),
);

const vmRows: [string, (i: number) => string[], number, number][] = [
  ["vmup -n ./disk.img", () => [`${bin}/vmup`, "-n", "./disk.img"], 50, 200],
  [
    "vmcreate -yn -c ./disk.img ./vmN",
    (i) => [`${bin}/vmcreate`, "-yn", "-c", "./disk.img", `./vm${i}`],
    80,
    340,
  ],
];
for (const [label, cmd, target, original] of vmRows) {
  rows.push(
    haveDisks ? await measure(label, cmd, { target, original }) : { label, target, original, note: noDisk },
  );
}

const infoLabel = "vminfo ./vm";
const infoExtra = { target: 50, original: 120 };
if (!haveDisks) {
  rows.push({ label: infoLabel, ...infoExtra, note: noDisk });
} else {
  const made = await run([
    `${bin}/vmcreate`,
    "-yn",
    "-c",
    "./disk.img",
    "./vm",
  ]);
  rows.push(
    made.code === 0 ? await measure(infoLabel, () => [`${bin}/vminfo`, "./vm"], infoExtra) : {
      label: infoLabel,
      ...infoExtra,
      note: `skipped: vmcreate -yn ./vm: exit ${made.code}: ${firstLine(made)}`,
    },
  );
}

// vmps with three guests running; they are stopped by pid, not with
// "vmdown -a", which would also stop VMs of this user that are not ours.
const psLabel = "vmps (3 VMs running)";
const psExtra = { target: 50, original: 160 };
if (!wanted(psLabel)) {
  rows.push({ label: psLabel, ...psExtra, note: "skipped: --only" });
} else if (!haveDisks) {
  rows.push({ label: psLabel, ...psExtra, note: noDisk });
} else {
  let failed = "";
  for (const disk of ["boot1.img", "boot2.img", "boot3.img"]) {
    const r = await run([
      `${bin}/vmup`,
      ...[
        "-o",
        "vm_display_type=none",
        "-o",
        "vm_qemu_accel=tcg",
        "-o",
        "vm_serial_mode=log",
      ],
      `./${disk}`,
    ]);
    if (r.code !== 0) {
      failed = `skipped: vmup ./${disk}: exit ${r.code}: ${firstLine(r)}`;
      break;
    }
  }
  try {
    const running = await ourQemus();
    if (!failed && running.length !== 3) {
      failed = `skipped: ${running.length} of 3 VMs running after vmup`;
    }
    rows.push(
      failed
        ? { label: psLabel, ...psExtra, note: failed }
        : await measure(psLabel, () => [`${bin}/vmps`], psExtra),
    );
  } finally {
    const pids = await ourQemus();
    if (pids.length) {
      const down = await run([
        `${bin}/vmdown`,
        "-tw",
        "-p",
        ...pids.map(String),
      ]);
      if (down.code !== 0) {
        console.error(
          `bench: vmdown -tw: exit ${down.code}: ${firstLine(down)}`,
        );
      }
      for (const pid of await ourQemus()) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
  }
}

const base: Row = { label: "deno run empty.ts (baseline, all rounds)" };
if (baseSamples.length) {
  base.stats = stats([...baseSamples]);
  base.baseline = base.stats?.median;
}
table("vmtools commands (whole process, wall time)", [base, ...rows]);
console.log(
  "x baseline: each command's median over the baseline's median of the same\n" +
    "rounds (the two took turns). Medians move with the machine's load; min\n" +
    "is the closest to an idle machine.",
);

// ---------------------------------------------------------------- VM trees

/** Times `cmd(i)` `n` times, running `after(i)` (untimed) after each; returns the samples. */
async function timeRuns(n: number, cmd: (i: number) => string[], after: (i: number) => Promise<void>) {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await run(cmd(i));
    if (r.code !== 0) throw new Error(`${cmd(i).join(" ")}: exit ${r.code}: ${firstLine(r)}`);
    samples.push(r.ms);
    await after(i);
  }
  return samples;
}

/** One contestant of {@linkcode takeTurns}: where its samples go, its command, what it writes. */
type Contestant = readonly [samples: number[], cmd: readonly string[], out: string];

/**
 * Times each contestant once per round, in turns, the order swapped every
 * round. Before each run the disk is synced (untimed) and, `cold`, `source`
 * evicted from the page cache: a run must not pay for the writeback of the
 * gigabyte the run before it left dirty, or the second place always loses.
 */
async function takeTurns(rounds: number, cold: boolean, source: string, contestants: readonly Contestant[]) {
  for (let i = 0; i < rounds; i++) {
    for (const [samples, cmd, out] of i % 2 ? [...contestants].reverse() : contestants) {
      await run(["sync"]);
      if (cold) await evict(source);
      samples.push(
        ...await timeRuns(1, () => [...cmd], () => Deno.remove(out, { recursive: true }).catch(() => {})),
      );
    }
  }
}

const treeRows: Row[] = [];
const trees = opts.only === undefined;

/**
 * Drops one file's pages from the page cache (posix_fadvise DONTNEED, done
 * by python3), so that it is read from the disk again — and only it: the
 * program being timed stays cached. False where python3 is missing.
 */
async function evict(path: string): Promise<boolean> {
  await run(["sync"]);
  const py =
    "import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)";
  try {
    return (await run(["python3", "-c", py, path])).code === 0;
  } catch {
    return false;
  }
}
const settings =
  "vm_qemu_accel=tcg\nvm_display_type=none\nvm_storage_hdd1_enable=yes\nvm_storage_hdd1_backend=hdd.qcow2\n";
async function rootVm(name: string, written: string | undefined): Promise<string> {
  const home = `${work}/${name}`;
  await Deno.mkdir(home, { recursive: true });
  await Deno.writeTextFile(`${home}/vm.settings`, settings);
  const made = await run(["qemu-img", "create", "-q", "-f", "qcow2", `${home}/hdd.qcow2`, "2G"]);
  if (made.code !== 0) throw new Error(`qemu-img create: ${firstLine(made)}`);
  if (written) {
    const w = await run(["qemu-io", "-c", `write -P 0x5a 0 ${written}`, `${home}/hdd.qcow2`]);
    if (w.code !== 0) throw new Error(`qemu-io: ${firstLine(w)}`);
  }
  return home;
}
try {
  if (!trees) throw new Error("--only");
  const big = await rootVm("big", "1G");
  const empty = await rootVm("empty", undefined);
  // Forks take turns, so that load hits both alike; their times must match.
  const forks = await measureAll([
    { label: "vmfork (disk with 1 GB written)", cmd: (i) => [`${bin}/vmfork`, big, `${big}/f${i}`] },
    { label: "vmfork (empty disk)", cmd: (i) => [`${bin}/vmfork`, empty, `${empty}/f${i}`] },
  ]);
  treeRows.push(...forks.map((r) => ({ ...r, baseline: forks[1].stats?.median })));

  // An autonomous copy of the 1 GB image against qemu-img convert of the
  // same image, taking turns. From the page cache the copy takes ~0.3 s
  // and vmtools' fixed cost (start-up, locks, journal: ~40-60 ms) shows;
  // read from the disk (the image evicted from the page cache before each
  // run) the copy is what it costs.
  const runs = Math.min(opts.runs, 5);
  const image = `${big}/hdd.qcow2`;
  for (const cold of (await evict(image)) ? [false, true] : [false]) {
    const convert: number[] = [], copy: number[] = [];
    await takeTurns(runs, cold, image, [
      [
        convert,
        ["qemu-img", "convert", "-O", "qcow2", `${big}/hdd.qcow2`, `${work}/plain.qcow2`],
        `${work}/plain.qcow2`,
      ],
      [copy, [`${bin}/vmcp`, "-a", "-q", "-M", "networking_iface_mac", big, `${work}/copy`], `${work}/copy`],
    ]);
    const where = cold ? "from disk" : "from cache";
    const convertRow: Row = { label: `qemu-img convert, 1 GB image ${where}`, stats: stats([...convert]) };
    convertRow.baseline = convertRow.stats?.median;
    treeRows.push(convertRow, {
      label: `vmcp -a of that VM ${where} (target <= 1.1x)`,
      stats: stats([...copy]),
      baseline: convertRow.stats?.median,
    });
  }

  // vminfo -t on a tree of 63 VMs: a root and two children per VM, five levels down.
  const root = await rootVm("t", undefined);
  let level = [root];
  for (let depth = 1; depth <= 5; depth++) {
    const next: string[] = [];
    for (const parent of level) {
      for (const c of ["a", "b"]) {
        const child = `${parent}/${c}`;
        const r = await run([`${bin}/vmfork`, parent, child]);
        if (r.code !== 0) throw new Error(`vmfork ${child}: ${firstLine(r)}`);
        next.push(child);
      }
    }
    level = next;
  }
  treeRows.push(
    await measure("vminfo -t (63-VM tree)", () => [`${bin}/vminfo`, "-t", level[level.length - 1]], {
      target: 100,
      original: 1850,
    }),
  );

  // A read-only check of all 63 with vmfix -n -r, then vmmv of a subtree of
  // 31 VMs out of the tree and back (its link to the parent crosses the
  // move's boundary; the links inside stay relative).
  const sub = `${root}/a`, away = `${work}/moved`;
  treeRows.push(
    await measure("vmfix -n -a -r (63-VM tree)", () => [`${bin}/vmfix`, "-n", "-a", "-r", root], {
      target: 150,
    }),
  );
  treeRows.push(
    await measure(
      "vmmv of a 31-VM subtree (there and back)",
      (i) => [`${bin}/vmmv`, "-q", ...(i % 2 ? [away, sub] : [sub, away])],
      { target: 150 },
    ),
  );
} catch (e) {
  treeRows.push({ label: "VM trees", note: `skipped: ${(e as Error).message}` });
}
table("VM trees (x: against the row named as baseline: empty fork, qemu-img convert, deno run)", treeRows);

// ---------------------------------------------------------- conversions

// vmcreate of a VM around a 1 GB vmdk (converted into the home; -n: no
// boot) against qemu-img convert of the same file, taking turns, from the
// page cache and (where the file can be evicted) from the disk: what
// vmtools adds to the conversion is its start-up, lock and journal.
const convertRows: Row[] = [];
try {
  const vmdk = `${work}/big.vmdk`;
  const scratch = `${work}/big-src.qcow2`;
  for (
    const cmd of [
      ["qemu-img", "create", "-q", "-f", "qcow2", scratch, "2G"],
      ["qemu-io", "-c", "write -P 0x5a 0 1G", scratch],
      ["qemu-img", "convert", "-O", "vmdk", scratch, vmdk],
    ]
  ) {
    const r = await run(cmd);
    if (r.code !== 0) throw new Error(`${cmd[0]}: ${firstLine(r)}`);
  }
  await Deno.remove(scratch);
  const runs = Math.min(opts.runs, 5);
  for (const cold of (await evict(vmdk)) ? [false, true] : [false]) {
    const convert: number[] = [], create: number[] = [];
    await takeTurns(runs, cold, vmdk, [
      [convert, ["qemu-img", "convert", "-O", "qcow2", vmdk, `${work}/plain.qcow2`], `${work}/plain.qcow2`],
      [create, [`${bin}/vmcreate`, "-y", "-n", "-q", "-c", vmdk, `${work}/imported`], `${work}/imported`],
    ]);
    const where = cold ? "from disk" : "from cache";
    const convertRow: Row = { label: `qemu-img convert, 1 GB vmdk ${where}`, stats: stats([...convert]) };
    convertRow.baseline = convertRow.stats?.median;
    convertRows.push(convertRow, {
      label: `vmcreate -yn -c of that vmdk ${where} (target <= 1.05x)`,
      stats: stats([...create]),
      baseline: convertRow.stats?.median,
    });
  }
} catch (e) {
  convertRows.push({ label: "conversions", note: `skipped: ${(e as Error).message}` });
}
table("conversions (x: against qemu-img convert of the same file in the same rounds)", convertRows);

// ------------------------------------------------ what the launcher adds

if (launcher && trees) {
  const cfg = ["--config", `${home}/deno.json`];
  const main = `${home}/main.ts`;
  const own = { VMTOOLS_ARGV0: "vmrndmac", DENO_DIR: `${home}/cache` };
  const direct = (...flags: string[]) => () => [
    `${home}/deno`,
    "run",
    "-q",
    "--no-prompt",
    ...flags,
    "-P=vmtools",
    ...cfg,
    main,
  ];
  const variants: Spec[] = [
    { label: "deno run empty.ts (baseline)", cmd: baseCmd },
    {
      label: "deno run -q -P=vmtools --config deno.json empty.ts",
      cmd: () => [
        opts.deno,
        "run",
        "-q",
        "--no-prompt",
        "-P=vmtools",
        ...cfg,
        `${work}/empty.ts`,
      ],
    },
    {
      label: "bash -c : (the launcher's shell alone)",
      cmd: () => ["bash", "-c", ":"],
    },
    { label: "vmrndmac through the launcher", cmd: () => [`${bin}/vmrndmac`] },
    {
      label: "  deno run main.ts, no launcher (--cached-only)",
      cmd: direct("--cached-only"),
      env: own,
    },
    { label: "    without --cached-only", cmd: direct(), env: own },
    {
      label: "    --cached-only --no-lock",
      cmd: direct("--cached-only", "--no-lock"),
      env: own,
    },
    {
      label: "    --cached-only --frozen",
      cmd: direct("--cached-only", "--frozen"),
      env: own,
    },
    {
      label: "    --cached-only --no-code-cache",
      cmd: direct("--cached-only", "--no-code-cache"),
      env: own,
    },
  ];
  const startup = await measureAll(variants);
  table(
    "start-up: what the launcher adds to deno's own start",
    startup,
    startup[0].stats?.median,
  );
}
