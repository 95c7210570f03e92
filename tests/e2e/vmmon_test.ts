/**
 * vmmon against real guests: the human monitor from a pipe (on the home, a
 * file in it, the socket itself) and on a terminal (through `script`),
 * `quit`, the serial log followed until the VM stops, the serial console on
 * a terminal (Ctrl-] detaches) and from a pipe (a boot-sector guest that
 * only talks at boot, and a Linux guest whose shell answers), and the errors.
 */
import { equal, match, ok } from "node:assert/strict";
import { makeBootSectorDisk } from "../fixtures/bootsector.ts";
import { GUEST_READY_LINE, linuxGuestIso } from "../fixtures/linux.ts";
import { readOr, Sandbox, SMALL_VM, VMTOOLS_COMMAND, waitFor } from "../helpers/vmtools.ts";

/** Kills the QEMU named by a pid file, if any. */
function kill(pidFile: string): void {
  const pid = Number(readOr(pidFile).trim());
  if (!pid) return;
  try {
    Deno.kill(pid, "SIGKILL");
  } catch { /* already gone */ }
}

/** Starts a vmtools command without waiting for it (for `vmmon -f`). */
function spawnVmtools(sb: Sandbox, command: string, ...args: string[]): Deno.ChildProcess {
  return sb.spawn({}, command, ...args);
}

/** Collects a stream's text as it comes; `done` settles at its end. */
function collect(
  stream: ReadableStream<Uint8Array>,
): { text: string; done: Promise<void> } {
  const box = { text: "", done: Promise.resolve() };
  box.done = (async () => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      box.text += chunk;
    }
  })();
  return box;
}

/**
 * Runs a vmtools command on a pseudo-terminal (through util-linux
 * `script`), typing each input once the output so far matches its cue.
 */
async function onTerminal(
  sb: Sandbox,
  command: string,
  args: string[],
  dialog: { cue: RegExp; type: string }[],
): Promise<{ code: number; output: string }> {
  const cmd = [
    ...VMTOOLS_COMMAND,
    ...args,
  ].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
  const child = new Deno.Command("script", {
    args: ["-qec", cmd, "/dev/null"],
    env: { ...sb.env, VMTOOLS_ARGV0: command, TERM: "xterm" },
    clearEnv: true,
    cwd: sb.work,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = collect(child.stdout);
  const err = collect(child.stderr);
  const writer = child.stdin.getWriter();
  try {
    for (const step of dialog) {
      await waitFor(
        () => step.cue.test(out.text),
        20_000,
        `${step.cue} on the terminal; got ${JSON.stringify(out.text)}`,
      );
      await writer.write(new TextEncoder().encode(step.type));
    }
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const { code } = await child.status;
    clearTimeout(timer);
    return { code, output: out.text };
  } finally {
    try {
      await writer.close();
    } catch { /* script has gone */ }
    try {
      child.kill("SIGKILL");
    } catch { /* ended */ }
    await child.status;
    await out.done;
    await err.done;
  }
}

Deno.test("vmmon: monitor, quit, serial log and console of a boot-sector guest", async () => {
  const sb = new Sandbox();
  const home = `${sb.work}/vm`;
  try {
    await makeBootSectorDisk(`${sb.work}/boot.img`, {
      message: "VMMON-BOOT-MESSAGE",
    });
    const c = await sb.run("vmcreate", "-y", "-n", ...SMALL_VM, "-c", "boot.img", "./vm");
    equal(c.code, 0, c.stderr);
    const up = await sb.run("vmup", "./vm");
    equal(up.code, 0, up.stderr);

    // The monitor from a pipe, on the home, a file in it and the socket.
    const status = await sb.runWith({ stdin: "info status\n" }, "vmmon", "./vm");
    equal(status.code, 0, status.stderr);
    equal(status.stdout, "VM status: running\n");
    const onSocket = await sb.runWith(
      { stdin: "# a comment\n\ninfo name\ninfo status\n" },
      "vmmon",
      "vm/monitor.sock",
    );
    equal(onSocket.code, 0, onSocket.stderr);
    equal(onSocket.stdout, "vm\nVM status: running\n");
    const onFile = await sb.runWith(
      { stdin: "info status" },
      "vmmon",
      "vm/vm.settings",
    );
    equal(onFile.code, 0, onFile.stderr);
    equal(onFile.stdout, "VM status: running\n");
    const inHome = await sb.runWith(
      { stdin: "info status\n", cwd: home },
      "vmmon",
    );
    equal(inHome.stdout, "VM status: running\n", inHome.stderr);

    // The serial log, followed: the boot message, and the end once QEMU stops.
    await waitFor(
      () => readOr(`${home}/serial.log`).includes("VMMON-BOOT-MESSAGE"),
      30_000,
      "the boot message in serial.log",
    );
    const follow = spawnVmtools(sb, "vmmon", "-f", "vm");
    const followed = collect(follow.stdout);
    const followErr = collect(follow.stderr);
    try {
      await waitFor(
        () => followed.text.includes("VMMON-BOOT-MESSAGE"),
        15_000,
        "vmmon -f to print the boot message",
      );

      // On a terminal: line editing with a prompt, Ctrl-D leaves; the
      // history is kept in the user's home.
      const tty = await onTerminal(sb, "vmmon", ["vm"], [
        { cue: /\(qemu\) /, type: "info status\r" },
        { cue: /VM status: running[^]*\(qemu\) /, type: "\x04" },
      ]);
      equal(tty.code, 0, tty.output);
      match(
        readOr(`${sb.dir}/home/.local/state/vmtools/vmmon_history`),
        /^info status$/m,
      );
      // The console on a terminal: Ctrl-] detaches, the VM runs on.
      const serialTty = await onTerminal(sb, "vmmon", ["-s", "vm"], [
        { cue: /Ctrl-\] detaches/, type: "\x1d" },
      ]);
      equal(serialTty.code, 0, serialTty.output);
      match(serialTty.output, /Detached from vm/);

      // The console from a pipe: connects, prints what comes, ends at EOF.
      const serial = await sb.runWith({ stdin: "" }, "vmmon", "-s", "vm");
      equal(serial.code, 0, serial.stderr);

      // quit ends the session, and QEMU with it.
      const quit = await sb.runWith(
        { stdin: "info status\nquit\ninfo status\n" },
        "vmmon",
        "vm",
      );
      equal(quit.code, 0, quit.stderr);
      equal(quit.stdout, "VM status: running\n");

      const timer = setTimeout(() => {
        try {
          follow.kill("SIGKILL");
        } catch { /* gone */ }
      }, 15_000);
      const st = await follow.status;
      clearTimeout(timer);
      equal(st.code, 0, `vmmon -f did not end with the VM: ${followErr.text}`);
    } finally {
      try {
        follow.kill("SIGKILL");
      } catch { /* already ended */ }
      await follow.status;
      await followed.done;
      await followErr.done;
    }

    // Now the VM is gone: clear errors, exit 1.
    const gone = await sb.runWith({ stdin: "info status\n" }, "vmmon", "vm");
    equal(gone.code, 1);
    match(gone.stderr, /vm: not running/);
    const goneSerial = await sb.runWith({ stdin: "" }, "vmmon", "-s", "vm");
    equal(goneSerial.code, 1);
    match(goneSerial.stderr, /vm: (not running|no serial console socket)/);
    // The log of the last run is still there to read.
    const lastLog = await sb.run("vmmon", "-f", "vm");
    equal(lastLog.code, 0, lastLog.stderr);
    match(lastLog.stdout, /VMMON-BOOT-MESSAGE/);
  } finally {
    kill(`${home}/qemu.pid`);
    await sb.cleanup();
  }
});

Deno.test("vmmon: usage and paths that are no VM", async () => {
  const sb = new Sandbox();
  try {
    const both = await sb.run("vmmon", "-s", "-f", ".");
    equal(both.code, 2);
    match(both.stderr, /exclude each other/);
    const notHome = await sb.runWith({ stdin: "info status\n" }, "vmmon", ".");
    equal(notHome.code, 1);
    match(notHome.stderr, /not a VM home/);
    const missing = await sb.run("vmmon", "nowhere");
    equal(missing.code, 1);
    match(missing.stderr, /nowhere: no such file or directory/);
    // A VM home that never ran.
    sb.write("work/idle/vm.settings", "vm_ram_size=32M\n");
    const idle = await sb.runWith({ stdin: "info status\n" }, "vmmon", "idle");
    equal(idle.code, 1);
    match(idle.stderr, /idle: not running \(no monitor socket/);
    const help = await sb.run("vmmon", "-h");
    equal(help.code, 0);
    match(help.stdout, /^Usage: vmmon/);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmmon -s: a Linux guest's shell answers on the serial console", async () => {
  const iso = await linuxGuestIso();
  const sb = new Sandbox();
  let dir = "";
  try {
    // A short name keeps the runtime directory's sockets within the 108
    // bytes a unix socket path may have.
    Deno.symlinkSync(iso, `${sb.work}/g.iso`);
    const up = await sb.run(
      "vmup",
      "-y",
      "-o",
      "vm_qemu_accel=tcg",
      "-o",
      "vm_ram_size=256M",
      "-o",
      "vm_display_type=vnc",
      "g.iso",
    );
    equal(up.code, 0, up.stderr);
    dir = /files in (.+)$/m.exec(up.stderr)?.[1] ?? "";
    ok(dir, `no runtime directory in: ${up.stderr}`);
    await waitFor(
      () => readOr(`${dir}/serial.log`).includes(GUEST_READY_LINE),
      90_000,
      `${GUEST_READY_LINE} in ${dir}/serial.log`,
    );
    const r = await sb.runWith(
      { stdin: "echo hi-$((6*7))\n" },
      "vmmon",
      "-s",
      dir,
    );
    equal(r.code, 0, r.stderr);
    match(r.stdout, /hi-42/);
    // The runtime directory works for the monitor too.
    const status = await sb.runWith({ stdin: "info status\n" }, "vmmon", dir);
    equal(status.stdout, "VM status: running\n", status.stderr);
  } finally {
    if (dir) kill(`${dir}/qemu.pid`);
    await sb.cleanup();
  }
});
