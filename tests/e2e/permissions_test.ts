/**
 * The shipped permission set is the product's boundary: code running inside
 * vmtools (here a user module) cannot spawn a shell or xorriso, load native
 * code, open IPv4 TCP connections or write to the module roots, while the
 * commands themselves work; and a refusal reaches the user as one line
 * saying what vmtools may not do, not Deno's advice.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { DEFAULTS } from "../../lib/settings/defaults.ts";
import { makeBootSectorDisk } from "../fixtures/bootsector.ts";
import { HEADLESS_TCG, readOr, Sandbox, waitFor } from "../helpers/vmtools.ts";

/** Files the probe tries to create in the default module roots. */
const ROOT_PROBES = [
  "/etc/vmtools/.vmtools-permission-probe",
  "/usr/local/share/vmtools/.vmtools-permission-probe",
];

const PROBE = `
export default async function c_probe({ qemu }) {
  const results = {};
  const attempt = async (name, f) => {
    try { await f(); results[name] = "allowed"; } catch (e) { results[name] = e.constructor.name; }
  };
  await attempt("sh", () => new Deno.Command("sh", { args: ["-c", "true"] }).output());
  await attempt("bash", () => new Deno.Command("/bin/bash", { args: ["-c", "true"] }).output());
  await attempt("xorriso", () => new Deno.Command("xorriso", { args: ["-launch_frontend", "/bin/true"] }).output());
  await attempt("ffi", () => Deno.dlopen("libc.so.6", {}));
  await attempt("tcp", async () => (await Deno.connect({ hostname: "127.0.0.1", port: 9 })).close());
  await attempt("tcp6-unspecified", async () => (await Deno.connect({ hostname: "::", port: 9 })).close());
  await attempt("proc", () => Deno.readTextFileSync("/proc/self/environ"));
  await attempt("env", () => Deno.env.get("SECRET_TOKEN"));
  await attempt("write-etc", () => Deno.writeTextFileSync(${JSON.stringify(ROOT_PROBES[0])}, "x"));
  await attempt("write-share", () => Deno.writeTextFileSync(${JSON.stringify(ROOT_PROBES[1])}, "x"));
  await attempt("qemu-img", () => new Deno.Command("qemu-img", { args: ["--version"], env: { LD_LIBRARY_PATH: "" } }).output());
  Deno.writeTextFileSync(Deno.env.get("HOME") + "/probe.json", JSON.stringify(results));
}
`;

Deno.test("under the shipped permissions a module cannot spawn sh or xorriso, load FFI, open TCP or write to the module roots; vmup still boots", async () => {
  const sb = new Sandbox();
  try {
    const disk = `${sb.work}/d.img`;
    await makeBootSectorDisk(disk, { message: "still booting" });
    sb.write("etc/modules/buildcmd/c_probe.ts", PROBE);
    const r = await sb.runWith(
      { env: { SECRET_TOKEN: "x", LD_LIBRARY_PATH: "/nonexistent" } },
      "vmup",
      ...HEADLESS_TCG,
      "-o",
      `cfg_modules_buildcmd=${DEFAULTS.cfg_modules_buildcmd} c_probe`,
      disk,
    );
    equal(r.code, 0, r.stderr);
    deepEqual(JSON.parse(readOr(`${sb.dir}/home/probe.json`)), {
      sh: "NotCapable",
      bash: "NotCapable",
      xorriso: "NotCapable",
      ffi: "NotCapable",
      tcp: "NotCapable",
      "tcp6-unspecified": "NotCapable",
      proc: "NotCapable",
      env: "NotCapable",
      "write-etc": "NotCapable",
      "write-share": "NotCapable",
      "qemu-img": "allowed",
    });
    // Deno refuses before touching the file system: nothing was created,
    // even where this user could write.
    for (const path of ROOT_PROBES) equal(readOr(path), "", path);
    const dir = /files in (.*)$/m.exec(r.stderr)![1];
    await waitFor(
      () => readOr(`${dir}/serial.log`).includes("still booting"),
      15000,
      "boot",
    );
  } finally {
    await sb.cleanup();
  }
});

const SEE = "(outside its permission set; see vmtools(7) SECURITY)";

Deno.test("a module reading /proc fails with one line saying what vmtools may not do", async () => {
  const sb = new Sandbox();
  try {
    const disk = `${sb.work}/d.img`;
    await makeBootSectorDisk(disk, { message: "never booted" });
    const module = sb.write(
      "etc/modules/buildcmd/c_proc.ts",
      `export default function c_proc() { Deno.readTextFileSync("/proc/self/environ"); }\n`,
    );
    const r = await sb.run(
      "vmup",
      ...HEADLESS_TCG,
      "-o",
      `cfg_modules_buildcmd=${DEFAULTS.cfg_modules_buildcmd} c_proc`,
      disk,
    );
    equal(r.code, 1);
    equal(r.stderr, `vmup: module ${module}: vmtools may not access /proc/self/environ ${SEE}\n`);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("a file where a VM home should be is one line and exit 1, not an internal error", async () => {
  const sb = new Sandbox();
  try {
    sb.write("work/notes.txt", "my notes\n");
    const r = await sb.run("vmcreate", "-y", "-n", "notes.txt");
    equal(r.code, 1);
    ok(!r.stderr.includes("internal error"), r.stderr);
    equal(r.stderr, "vmcreate: notes.txt: exists and is not a directory\n");
    equal(readOr(`${sb.work}/notes.txt`), "my notes\n");
    // VMTOOLS_DEBUG keeps the stack within reach.
    const debug = await sb.runWith({ env: { VMTOOLS_DEBUG: "1" } }, "vmcreate", "-y", "-n", "notes.txt");
    equal(debug.code, 1);
    match(debug.stderr, /^vmcreate: notes\.txt: exists and is not a directory\n.*\n\s+at /);
  } finally {
    await sb.cleanup();
  }
});
