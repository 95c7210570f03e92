/**
 * Commands run in this process, with their input, environment, working
 * directory and output given through CommandIO — no subprocess, no QEMU.
 */
import { equal, match } from "node:assert/strict";
import { type CommandIO, runCommand } from "../lib/cli/command.ts";
import vminfo from "./vminfo.ts";
import vmrm from "./vmrm.ts";

/** A CommandIO over a working directory, an environment and stdin text; what is written is kept. */
function fakeIO(prog: string, cwd: string, env: Record<string, string>, stdin = "") {
  const text = { out: "", err: "" };
  const bytes = new TextEncoder().encode(stdin);
  let offset = 0;
  const io: CommandIO = {
    prog,
    cwd,
    env: (n) => env[n],
    output: {
      out: (t) => void (text.out += t),
      err: (t) => void (text.err += t),
      errIsTerminal: false,
      inIsTerminal: false,
    },
    stdin: {
      readable: ReadableStream.from([bytes]),
      read: (p) => {
        if (offset >= bytes.length) return Promise.resolve(null);
        const n = Math.min(p.length, bytes.length - offset);
        p.set(bytes.subarray(offset, offset + n));
        offset += n;
        return Promise.resolve(n);
      },
      isTerminal: () => false,
    },
    stdout: { write: (p) => Promise.resolve(p.length) },
  };
  return { io, text };
}

function tree(): { dir: string; env: Record<string, string> } {
  const dir = Deno.makeTempDirSync({ prefix: "vmtools-inprocess-" });
  for (const d of ["share", "etc", "home"]) Deno.mkdirSync(`${dir}/${d}`);
  Deno.mkdirSync(`${dir}/base/child`, { recursive: true });
  Deno.writeTextFileSync(`${dir}/base/vm.settings`, "vm_ram_size=64M\n");
  Deno.writeTextFileSync(`${dir}/base/childs.lst`, "child\n");
  Deno.writeTextFileSync(`${dir}/base/child/vm.settings`, "parent ..\n");
  const env = {
    VMTOOLS_SHARE_DIR: `${dir}/share`,
    VMTOOLS_ETC_DIR: `${dir}/etc`,
    XDG_CONFIG_HOME: `${dir}/home`,
    XDG_RUNTIME_DIR: `${dir}/run`,
  };
  return { dir, env };
}

Deno.test("vminfo -t runs in-process from the working directory CommandIO gives", async () => {
  const { dir, env } = tree();
  try {
    const { io, text } = fakeIO("vminfo", `${dir}/base`, env);
    equal(await runCommand(vminfo, ["-t", "-a", "child"], io), 0, text.err);
    equal(text.out, "base\n`-- child *\n");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("vmrm reads its answer from the stdin CommandIO gives: no keeps the VM", async () => {
  const { dir, env } = tree();
  try {
    const no = fakeIO("vmrm", dir, env, "no\n");
    equal(await runCommand(vmrm, ["base/child"], no.io), 1);
    match(no.text.err, /Delete VM .*base\/child \(yes\/no\) \[no\]: vmrm: base\/child: not deleted/);
    equal(Deno.readTextFileSync(`${dir}/base/childs.lst`), "child\n");
    const yes = fakeIO("vmrm", dir, env, "yes\n");
    equal(await runCommand(vmrm, ["base/child"], yes.io), 0, yes.text.err);
    equal([...Deno.readDirSync(`${dir}/base`)].map((e) => e.name).sort().join(" "), "vm.settings");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
