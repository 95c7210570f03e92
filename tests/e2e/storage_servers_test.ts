/**
 * Storage behind FTP and iSCSI URLs, booted for real from servers that
 * Debian packages and the test starts on a loopback port it picks:
 * pyftpdlib (python3-pyftpdlib: anonymous, read-only, with REST, which
 * QEMU's curl driver reads ranges with) and tgtd (tgt: a target with
 * file-backed LUNs on its own portal and management socket, so that test
 * runs do not meet; it needs root). TFTP has no server here because QEMU
 * 7.2 has no TFTP driver: the check before the start says so in one line.
 */
import { deepEqual, equal, match } from "node:assert/strict";
import { QmpClient } from "../../lib/qmp/client.ts";
import { makeBootSectorDisk } from "../fixtures/bootsector.ts";
import { makeBootIso } from "../fixtures/iso.ts";
import { startServer } from "../helpers/servers.ts";
import { HEADLESS_TCG, readOr, type RunResult, Sandbox, waitFor } from "../helpers/vmtools.ts";

/** Debian's Python, which has python3-pyftpdlib (a python3 earlier on PATH may not). */
const PYTHON = "/usr/bin/python3";

/** The runtime directory a bare vmup reported. */
function filesDir(r: RunResult): string {
  const dir = /files in (.*)$/m.exec(r.stderr)?.[1];
  if (!dir) throw new Error(`vmup did not say where its files are: ${r.stderr}`);
  return dir;
}

/** QEMU's answer to a QMP command on the monitor socket `monitor`. */
async function qmp<T>(monitor: string, command: string, args?: Record<string, unknown>): Promise<T> {
  const client = await QmpClient.connect(monitor, { timeoutMs: 5000 });
  try {
    return await client.execute<T>(command, args);
  } finally {
    client.close();
  }
}

/** What QEMU says of the drive `device` names (or whose file is `device`): read-only, driver and file of its top image. */
async function block(monitor: string, device: string) {
  const all = await qmp<
    { device: string; inserted?: { file: string; ro: boolean; drv: string; image: { filename: string } } }[]
  >(monitor, "query-block");
  return all.find((b) => b.device === device || b.inserted?.file === device)?.inserted;
}

/** The `-drive` values of the command `vmup -n` printed (as shell words: quotes taken off). */
function drives(stdout: string): string[] {
  return [...stdout.matchAll(/-drive (\S+)/g)].map((m) => m[1].replace(/^'(.*)'$/, "$1"));
}

/** Boots `url` with vmup and waits for `message` on the guest's serial line; returns the runtime directory. */
async function bootAndSee(sb: Sandbox, url: string, message: string): Promise<string> {
  const r = await sb.run("vmup", ...HEADLESS_TCG, url);
  equal(r.code, 0, r.stderr);
  const dir = filesDir(r);
  await waitFor(
    () => readOr(`${dir}/serial.log`).includes(message),
    60_000,
    `"${message}" on the serial line`,
  );
  return dir;
}

Deno.test("vmup boots URLs served over FTP: an ISO in a CD-ROM drive, a qcow2 disk in snapshot mode; rw:, a missing file and a closed port are one line each", async () => {
  const sb = new Sandbox();
  try {
    const pub = `${sb.dir}/pub`;
    Deno.mkdirSync(pub);
    await makeBootIso(`${pub}/boot.iso`, { message: "hello from the FTP CD" });
    await makeBootSectorDisk(`${pub}/disk.qcow2`, { message: "hello from the FTP disk", format: "qcow2" });
    // The name says nothing: what the ranged read finds at 32 KiB decides.
    Deno.copyFileSync(`${pub}/boot.iso`, `${pub}/cd-image`);
    const server = await startServer({
      name: "pyftpdlib",
      command: PYTHON,
      args: (port) => ["-m", "pyftpdlib", "-i", "127.0.0.1", "-p", String(port), "-d", pub],
    });
    const base = `ftp://127.0.0.1:${server.port}`;
    try {
      const cdDir = await bootAndSee(sb, `${base}/boot.iso`, "hello from the FTP CD");
      const cd = await block(`${cdDir}/monitor.sock`, `${base}/boot.iso`);
      equal(cd?.drv, "raw");
      equal(cd?.ro, true, "a read-only CD-ROM drive");
      equal((await sb.run("vmdown", "-k", cdDir)).code, 0);

      const diskDir = await bootAndSee(sb, `${base}/disk.qcow2`, "hello from the FTP disk");
      const hdd = await block(`${diskDir}/monitor.sock`, "hdd1");
      // Snapshot mode: QEMU's top image is its throwaway overlay, over the URL.
      equal(hdd?.drv, "qcow2");
      match(hdd?.image.filename ?? "", /"backing".*"url": "ftp:[^"]*\/disk\.qcow2".*\/vl\.\w+"/);
      equal((await sb.run("vmdown", "-k", diskDir)).code, 0);

      const byContent = await sb.run("vmup", "-n", ...HEADLESS_TCG, `${base}/cd-image`);
      equal(byContent.code, 0, byContent.stderr);
      deepEqual(drives(byContent.stdout), [
        `file=${base}/cd-image,format=raw,readonly=on,if=ide,index=2,media=cdrom`,
      ]);

      // QEMU's curl driver only reads: rw: is refused before QEMU says "Block node is read-only".
      const rw = await sb.run("vmup", "-n", ...HEADLESS_TCG, `rw:${base}/disk.qcow2`);
      equal(rw.code, 1, rw.stdout);
      equal(
        rw.stderr,
        `vmup: built-in module storage_hdd: hdd1 (rw:${base}/disk.qcow2): QEMU cannot write to ftp URLs; use snapshot mode (snap:, the default)\n`,
      );

      const missing = await sb.run("vmup", ...HEADLESS_TCG, `${base}/nope.iso`);
      equal(missing.code, 1);
      equal(missing.stderr, `vmup: ${base}/nope.iso: cannot be opened: The file does not exist\n`);
    } finally {
      await server.stop();
    }
    // The server is gone: nothing listens on its port any more.
    const closed = await sb.run("vmup", ...HEADLESS_TCG, `${base}/boot.iso`);
    equal(closed.code, 1);
    match(
      closed.stderr,
      new RegExp(`^vmup: ${base}/boot\\.iso: cannot be opened: [^\\n]*connect[^\\n]*\\n$`),
    );
  } finally {
    await sb.cleanup();
  }
});

/** tgtd keeps its management socket here, named by its control port. */
const TGTD_SOCKETS = "/var/run/tgtd";
const IQN = "iqn.2024-01.invalid.vmtools:disks";
const notRoot = Deno.uid() !== 0;
if (notRoot) {
  console.log(`storage_servers_test: tgtd needs root (it writes ${TGTD_SOCKETS}): the iSCSI test is skipped`);
}

/**
 * The control port of the tgtd whose portal is on `port`: tgtd takes 0 to
 * 32767 and names its socket by it (0 is the system's tgtd). Another run's
 * tgtd on the same number holds the socket's lock, and this one exits.
 */
function controlPort(port: number): number {
  return 1 + port % 32767;
}

/** Runs tgtadm against the tgtd whose portal is on `port`; throws with its message on failure. */
async function tgtadm(port: number, ...args: string[]): Promise<void> {
  const control = String(controlPort(port));
  const r = await new Deno.Command("tgtadm", { args: ["-C", control, "--lld", "iscsi", ...args] }).output();
  if (r.code !== 0) throw new Error(`tgtadm ${args.join(" ")}: ${new TextDecoder().decode(r.stderr).trim()}`);
}

Deno.test({
  name:
    "vmup boots an iSCSI LUN (tgtd) read-write by default, an ISO on a LUN in a CD-ROM drive; a missing target, LUN or portal is one line",
  ignore: notRoot,
  fn: async () => {
    const sb = new Sandbox();
    try {
      const lun1 = `${sb.dir}/lun1.img`;
      await makeBootSectorDisk(lun1, { message: "hello over iSCSI", sizeMiB: 4 });
      await makeBootIso(`${sb.dir}/lun2.iso`, { message: "x" });
      // Its own portal and control port: runs of this test in parallel do not meet.
      const server = await startServer({
        name: "tgtd",
        command: "tgtd",
        args: (port) => ["-f", "-C", String(controlPort(port)), "--iscsi", `portal=127.0.0.1:${port}`],
        before: async (port) => {
          await tgtadm(port, "--mode", "target", "--op", "delete", "--force", "--tid", "1").catch(() => {});
          await tgtadm(port, "--mode", "system", "--op", "delete");
        },
        after: (port) => {
          for (const f of [`socket.${controlPort(port)}`, `socket.${controlPort(port)}.lock`]) {
            try {
              Deno.removeSync(`${TGTD_SOCKETS}/${f}`);
            } catch { /* not made */ }
          }
        },
      });
      const portal = `iscsi://127.0.0.1:${server.port}`;
      try {
        const adm = (...args: string[]) => tgtadm(server.port, ...args);
        await adm("--mode", "target", "--op", "new", "--tid", "1", "--targetname", IQN);
        for (const [lun, file] of [[1, lun1], [2, `${sb.dir}/lun2.iso`]] as const) {
          await adm(
            "--mode",
            "logicalunit",
            "--op",
            "new",
            "--tid",
            "1",
            "--lun",
            `${lun}`,
            "--backing-store",
            file,
          );
        }
        await adm("--mode", "target", "--op", "bind", "--tid", "1", "--initiator-address", "127.0.0.1");
        const url = `${portal}/${IQN}/1`;

        const plan = await sb.run("vmup", "-n", ...HEADLESS_TCG, url);
        equal(plan.code, 0, plan.stderr);
        deepEqual(drives(plan.stdout), [`file=${url},format=raw,id=hdd1,if=ide,index=0,media=disk`]);
        const snap = await sb.run("vmup", "-n", ...HEADLESS_TCG, `snap:${url}`);
        equal(snap.code, 0, snap.stderr);
        deepEqual(drives(snap.stdout), [
          `file=${url},format=raw,id=hdd1,snapshot=on,if=ide,index=0,media=disk`,
        ]);
        // A LUN holding an ISO 9660 image is a CD-ROM, by its content.
        const cd = await sb.run("vmup", "-n", ...HEADLESS_TCG, `${portal}/${IQN}/2`);
        equal(cd.code, 0, cd.stderr);
        deepEqual(drives(cd.stdout), [
          `file=${portal}/${IQN}/2,format=raw,readonly=on,if=ide,index=2,media=cdrom`,
        ]);

        const dir = await bootAndSee(sb, url, "hello over iSCSI");
        const monitor = `${dir}/monitor.sock`;
        const hdd = await block(monitor, "hdd1");
        equal(hdd?.ro, false, "read-write by default");
        equal(hdd?.drv, "raw", "a LUN is a raw disk");
        // A write through QEMU's drive lands in the file behind the LUN.
        // (qemu-io says what it did on QEMU's stdout, not to the monitor.)
        await qmp<string>(monitor, "human-monitor-command", {
          "command-line": 'qemu-io hdd1 "write -P 0x5a 1M 4k"',
        });
        equal((await sb.run("vmdown", "-k", dir)).code, 0);
        const written = new Uint8Array(4096);
        const f = Deno.openSync(lun1);
        try {
          f.seekSync(1 << 20, Deno.SeekMode.Start);
          equal(f.readSync(written), 4096);
        } finally {
          f.close();
        }
        equal(written.every((b) => b === 0x5a), true, "the guest's write is in the LUN's file");

        const noTarget = await sb.run("vmup", "-n", ...HEADLESS_TCG, `${portal}/${IQN}-none/1`);
        equal(noTarget.code, 1, noTarget.stdout);
        match(
          noTarget.stderr,
          /^vmup: iscsi:[^\n]*-none\/1: cannot be opened: [^\n]*Target not found[^\n]*\n$/,
        );
        const noLun = await sb.run("vmup", "-n", ...HEADLESS_TCG, `${portal}/${IQN}/7`);
        equal(noLun.code, 1, noLun.stdout);
        match(
          noLun.stderr,
          /^vmup: iscsi:[^\n]*\/7: cannot be opened: [^\n]*LOGICAL_UNIT_NOT_SUPPORTED[^\n]*\n$/,
        );
      } finally {
        await server.stop();
      }
      const closed = await sb.run("vmup", "-n", ...HEADLESS_TCG, `${portal}/${IQN}/1`);
      equal(closed.code, 1, closed.stdout);
      equal(
        closed.stderr,
        `vmup: ${portal}/${IQN}/1: cannot be opened: cannot connect to the iSCSI portal 127.0.0.1:${server.port}\n`,
      );
    } finally {
      await sb.cleanup();
    }
  },
});

Deno.test("a TFTP URL is one line: QEMU 7.2 has no TFTP driver", async () => {
  const sb = new Sandbox();
  try {
    const url = "tftp://127.0.0.1:69/boot.iso";
    const r = await sb.run("vmup", ...HEADLESS_TCG, url);
    equal(r.code, 1, r.stdout);
    equal(
      r.stderr,
      `vmup: ${url}: cannot be opened: Unknown protocol 'tftp' (QEMU has no TFTP driver: fetch the image and boot the file)\n`,
    );
  } finally {
    await sb.cleanup();
  }
});
