/**
 * The progress line in a real terminal (tmux): a conversion (`vmcreate -c`
 * of a vmdk), a tree command's copy (`vmcp -a`) and a merge (`vmmerge -s`:
 * copies, then a commit) each end on a full bar at 100% with the rate; the
 * bar is green unless NO_COLOR is set. Piped, or under -q, no bar at all.
 */
import { equal, match, ok } from "node:assert/strict";
import { Terminal } from "../helpers/terminal.ts";
import { type RunResult, Sandbox } from "../helpers/vmtools.ts";
import { exists } from "../../lib/fs.ts";

const MiB = 2 ** 20;

/** A vmdk holding `mib` MiB of data (no zeros: qemu-img skips those). */
async function writtenVmdk(sb: Sandbox, name: string, mib: number): Promise<string> {
  const raw = `${sb.dir}/tmp/${name}.raw`;
  const block = new Uint8Array(MiB);
  for (let i = 0; i < MiB; i += 65536) crypto.getRandomValues(block.subarray(i, i + 65536));
  {
    using f = Deno.openSync(raw, { write: true, create: true });
    for (let i = 0; i < mib; i++) {
      block[0] = i & 0xff;
      f.writeSync(block);
    }
  }
  const vmdk = `${sb.work}/${name}.vmdk`;
  await qemu("qemu-img", "convert", "-O", "vmdk", raw, vmdk);
  Deno.removeSync(raw);
  return vmdk;
}

async function qemu(program: string, ...args: string[]): Promise<void> {
  const r = await new Deno.Command(program, { args, stdout: "null", stderr: "piped" }).output();
  equal(r.code, 0, `${program} ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
}

/** Runs a command in a terminal of its own to its end; returns the screen (with escapes when asked). */
async function onTerminal(
  sb: Sandbox,
  env: Record<string, string | undefined>,
  escapes: boolean,
  command: string,
  ...args: string[]
): Promise<{ code: number; screen: string }> {
  const t = await Terminal.startWith(sb, { env }, command, ...args);
  try {
    const code = await t.exitCode(300_000);
    return { code, screen: await t.screen(escapes) };
  } finally {
    await t.close();
  }
}

/** A finished bar: full, 100%, and a rate. */
function finished(label: string): RegExp {
  return new RegExp(`^${label} \\[#{24}\\] 100%  [\\d.]+ [KMG]?B/s *$`, "m");
}

function noBar(r: RunResult): void {
  ok(!r.stderr.includes("\r") && !/\[[#.]{24}\]/.test(r.stderr), JSON.stringify(r.stderr));
}

Deno.test("conversions, copies and merges draw a bar with % and rate on a terminal; piped or -q, none", async () => {
  const sb = new Sandbox();
  try {
    await writtenVmdk(sb, "disk", 96);
    const colour = { NO_COLOR: undefined };

    // A conversion, in colour.
    const create = await onTerminal(sb, colour, true, "vmcreate", "-y", "-n", "-c", "disk.vmdk", "vm");
    equal(create.code, 0, create.screen);
    // deno-lint-ignore no-control-regex
    const plain = create.screen.replace(/\x1b\[[0-9;]*m/g, "");
    match(plain, finished("converting disk\\.vmdk"));
    // deno-lint-ignore no-control-regex
    match(create.screen, /converting disk\.vmdk \[\x1b\[32m#{24}\x1b\[(0|39)m\] 100%/);

    // A tree command's copy, without colour.
    const copy = await onTerminal(sb, { NO_COLOR: "1" }, true, "vmcp", "-a", "vm", "copy");
    equal(copy.code, 0, copy.screen);
    match(copy.screen, finished("copying disk\\.qcow2"));
    ok(!copy.screen.includes("\x1b["), "NO_COLOR: no colour");

    // A merge: the child's writes committed into a copy of the parent's disk.
    const fork = await sb.run("vmfork", "copy", "copy/child");
    equal(fork.code, 0, fork.stderr);
    await qemu("qemu-io", "-c", "write -P 0x5a 0 32M", `${sb.work}/copy/child/disk.qcow2`);
    const merge = await onTerminal(sb, colour, false, "vmmerge", "-y", "-s", "copy/child");
    equal(merge.code, 0, merge.screen);
    match(merge.screen, finished("copying disk\\.qcow2"));
    match(merge.screen, finished("merging disk\\.qcow2\\.merge-\\d+"));

    // Piped: the same work, no bar; on a terminal under -q, nothing.
    noBar(await sb.run("vmcreate", "-y", "-n", "-c", "disk.vmdk", "vm2"));
    noBar(await sb.run("vmcp", "-a", "vm", "copy2"));
    const quiet = await onTerminal(sb, colour, false, "vmcreate", "-q", "-y", "-n", "-c", "disk.vmdk", "vm3");
    equal(quiet.code, 0, quiet.screen);
    ok(!/\[[#.]{24}\]/.test(quiet.screen), quiet.screen);
    ok(Deno.statSync(`${sb.work}/vm3/disk.qcow2`).size > 90 * MiB, "the quiet conversion happened");
  } finally {
    await sb.cleanup();
  }
});

Deno.test({
  name: "vmmv to another file system copies the tree with one bar, every byte kept",
  ignore: Deno.uid() !== 0, // mounting a file system of its own needs root
  async fn() {
    const sb = new Sandbox();
    const other = `${sb.dir}/other`;
    Deno.mkdirSync(other);
    await qemu("mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", other);
    try {
      await writtenVmdk(sb, "disk", 48);
      const c = await sb.run("vmcreate", "-y", "-n", "-c", "disk.vmdk", "vm");
      equal(c.code, 0, c.stderr);
      const before = Deno.readFileSync(`${sb.work}/vm/disk.qcow2`);
      const mv = await onTerminal(sb, {}, false, "vmmv", "vm", `${other}/vm`);
      equal(mv.code, 0, mv.screen);
      match(mv.screen, finished("moving vm"));
      const after = Deno.readFileSync(`${other}/vm/disk.qcow2`);
      ok(after.length === before.length && after.every((b, i) => b === before[i]), "the disk moved intact");
      equal(Deno.statSync(`${other}/vm/vm.settings`).isFile, true);
      equal((await sb.run("vminfo", "-b", `${other}/vm`)).code, 0);
      ok(!exists(`${sb.work}/vm`), "the original is gone");
    } finally {
      await qemu("umount", other);
      await sb.cleanup();
    }
  },
});
