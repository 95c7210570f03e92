/**
 * Commands run in this process, with their input, environment, working
 * directory and output given through CommandIO — no subprocess, no QEMU.
 */
import { deepEqual, equal, match } from "node:assert/strict";
import { type CommandIO, runCommand } from "../lib/cli/command.ts";
import { normalize } from "../lib/path.ts";
import vmfix from "./vmfix.ts";
import vmfork from "./vmfork.ts";
import vminfo from "./vminfo.ts";
import vmmv from "./vmmv.ts";
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

/** The backing chain of `image` as qemu-img resolves it (throws if it does not). */
async function chain(image: string): Promise<string[]> {
  const r = await new Deno.Command("qemu-img", {
    args: ["info", "-U", "--backing-chain", "--output=json", image],
    stdout: "piped",
    stderr: "piped",
  }).output();
  equal(r.code, 0, new TextDecoder().decode(r.stderr));
  return (JSON.parse(new TextDecoder().decode(r.stdout)) as { filename: string }[]).map((i) =>
    normalize(i.filename)
  );
}

// In-process because the other file system here is /dev/shm, and under the
// shipped permission set Deno refuses every path below /dev.
Deno.test("vmmv to another file system copies, relinks and removes the original, and comes back", async () => {
  const { dir, env } = tree();
  const other = Deno.makeTempDirSync({ dir: "/dev/shm", prefix: "vmtools-mv-" });
  const run = async (cmd: typeof vmmv, ...args: string[]) => {
    const { io, text } = fakeIO(cmd.name, dir, env);
    equal(await runCommand(cmd, args, io), 0, text.err);
  };
  try {
    Deno.removeSync(`${dir}/base/child`, { recursive: true });
    Deno.removeSync(`${dir}/base/childs.lst`);
    const made = await new Deno.Command("qemu-img", {
      args: ["create", "-q", "-f", "qcow2", `${dir}/base/hdd.qcow2`, "16M"],
    }).output();
    equal(made.code, 0);
    Deno.writeTextFileSync(
      `${dir}/base/vm.settings`,
      "vm_storage_hdd1_enable=yes\nvm_storage_hdd1_backend=hdd.qcow2\n",
    );
    await run(vmfork, "base", "base/mid");
    await run(vmfork, "base/mid", "base/mid/leaf");

    await run(vmmv, "base/mid", `${other}/mid`);
    equal(Deno.statSync(`${dir}/base`).isDirectory, true);
    deepEqual([...Deno.readDirSync(`${dir}/base`)].map((e) => e.name).sort(), [
      "childs.lst",
      "hdd.qcow2",
      "vm.settings",
    ]);
    equal(Deno.readTextFileSync(`${dir}/base/childs.lst`), `${other}/mid\n`);
    deepEqual(await chain(`${other}/mid/leaf/hdd.qcow2`), [
      `${other}/mid/leaf/hdd.qcow2`,
      `${other}/mid/hdd.qcow2`,
      `${dir}/base/hdd.qcow2`,
    ]);

    await run(vmmv, `${other}/mid`, "base/mid");
    deepEqual([...Deno.readDirSync(other)], []);
    equal(Deno.readTextFileSync(`${dir}/base/childs.lst`), "mid\n");
    match(Deno.readTextFileSync(`${dir}/base/mid/vm.settings`), /^parent \.\.$/m);
    deepEqual(await chain(`${dir}/base/mid/leaf/hdd.qcow2`), [
      `${dir}/base/mid/leaf/hdd.qcow2`,
      `${dir}/base/mid/hdd.qcow2`,
      `${dir}/base/hdd.qcow2`,
    ]);
    const { io, text } = fakeIO("vmfix", dir, env);
    equal(await runCommand(vmfix, ["-An", "-r", "."], io), 0, text.out + text.err);
  } finally {
    Deno.removeSync(dir, { recursive: true });
    Deno.removeSync(other, { recursive: true });
  }
});
