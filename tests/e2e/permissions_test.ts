/**
 * The shipped permission set is the product's boundary: code running inside
 * vmtools (here a user module) cannot spawn a shell, load native code or
 * open TCP connections, while the commands themselves work.
 */
import { deepEqual, equal } from "node:assert/strict";
import { makeBootSectorDisk } from "../fixtures/bootsector.ts";
import { readOr, Sandbox, waitFor } from "../helpers/vmtools.ts";

const PROBE = `
export default async function c_probe({ qemu }) {
  const results = {};
  const attempt = async (name, f) => {
    try { await f(); results[name] = "allowed"; } catch (e) { results[name] = e.constructor.name; }
  };
  await attempt("sh", () => new Deno.Command("sh", { args: ["-c", "true"] }).output());
  await attempt("bash", () => new Deno.Command("/bin/bash", { args: ["-c", "true"] }).output());
  await attempt("ffi", () => Deno.dlopen("libc.so.6", {}));
  await attempt("tcp", async () => (await Deno.connect({ hostname: "127.0.0.1", port: 9 })).close());
  await attempt("proc", () => Deno.readTextFileSync("/proc/self/environ"));
  await attempt("env", () => Deno.env.get("SECRET_TOKEN"));
  await attempt("qemu-img", () => new Deno.Command("qemu-img", { args: ["--version"], env: { LD_LIBRARY_PATH: "" } }).output());
  Deno.writeTextFileSync(Deno.env.get("HOME") + "/probe.json", JSON.stringify(results));
}
`;

Deno.test("under the shipped permissions a module cannot spawn sh, load FFI or open TCP; vmup still boots", async () => {
  const sb = new Sandbox();
  try {
    const disk = `${sb.work}/d.img`;
    await makeBootSectorDisk(disk, { message: "still booting" });
    sb.write("etc/modules/buildcmd/c_probe.ts", PROBE);
    const list =
      "qemu boot cpu display keyboard monitor serial name networking ram storage_cdrom storage_hdd c_probe";
    const r = await sb.runWith(
      { env: { SECRET_TOKEN: "x", LD_LIBRARY_PATH: "/nonexistent" } },
      "vmup",
      "-o",
      "vm_qemu_accel=tcg",
      "-o",
      "vm_display_type=none",
      "-o",
      `cfg_modules_buildcmd=${list}`,
      disk,
    );
    equal(r.code, 0, r.stderr);
    deepEqual(JSON.parse(readOr(`${sb.dir}/home/probe.json`)), {
      sh: "NotCapable",
      bash: "NotCapable",
      ffi: "NotCapable",
      tcp: "NotCapable",
      proc: "NotCapable",
      env: "NotCapable",
      "qemu-img": "allowed",
    });
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
