/**
 * Storage behind URLs, booted for real: an HTTP server that serves byte
 * ranges (busybox httpd, which QEMU's curl driver can read; Python's
 * http.server cannot) on a loopback port the test picks, and qemu-nbd on a
 * unix socket. vmup looks at a URL with qemu-img before QEMU starts: an ISO
 * (told by its content) boots in a CD-ROM drive, an unreachable URL is one
 * line.
 */
import { deepEqual, equal, match } from "node:assert/strict";
import { QmpClient } from "../../lib/qmp/client.ts";
import { makeBootSectorDisk } from "../fixtures/bootsector.ts";
import { makeBootIso } from "../fixtures/iso.ts";
import { type LoopbackServer, startServer } from "../helpers/servers.ts";
import { HEADLESS_TCG, readOr, type RunResult, Sandbox, waitFor } from "../helpers/vmtools.ts";

/** A busybox httpd serving `dir` on a loopback port. */
function startHttpServer(dir: string): Promise<LoopbackServer> {
  return startServer({
    name: "busybox httpd",
    command: "busybox",
    args: (port) => ["httpd", "-f", "-p", `127.0.0.1:${port}`, "-h", dir],
  });
}

/** The runtime directory a bare vmup reported. */
function filesDir(r: RunResult): string {
  const dir = /files in (.*)$/m.exec(r.stderr)?.[1];
  if (!dir) throw new Error(`vmup did not say where its files are: ${r.stderr}`);
  return dir;
}

/** What QEMU says of its drives: device name, file, read-only, and the image format at the top. */
async function blocks(monitor: string) {
  const qmp = await QmpClient.connect(monitor, { timeoutMs: 5000 });
  try {
    return await qmp.execute<
      { device: string; inserted?: { file: string; ro: boolean; drv: string; image: { filename: string } } }[]
    >("query-block");
  } finally {
    qmp.close();
  }
}

/** The `-drive` values of the command `vmup -n` printed (as shell words: quotes taken off). */
function drives(stdout: string): string[] {
  return [...stdout.matchAll(/-drive (\S+)/g)].map((m) => m[1].replace(/^'(.*)'$/, "$1"));
}

Deno.test("vmup boots URLs served over HTTP with byte ranges: an ISO in a CD-ROM drive, a qcow2 disk in snapshot mode; a 404 and a closed port are one line each", async () => {
  const sb = new Sandbox();
  const www = `${sb.dir}/www`;
  Deno.mkdirSync(www);
  await makeBootIso(`${www}/boot.iso`, { message: "hello from the HTTP CD" });
  await makeBootSectorDisk(`${www}/disk.qcow2`, { message: "hello from the HTTP disk", format: "qcow2" });
  // The name says nothing: what the ranged read finds at 32 KiB decides.
  Deno.copyFileSync(`${www}/boot.iso`, `${www}/cd-image`);
  await makeBootSectorDisk(`${www}/not-a-cd.iso`, { message: "x", sizeMiB: 1 });
  const server = await startHttpServer(www);
  try {
    const base = `http://127.0.0.1:${server.port}`;
    /** vmup -n of `name` on the server exits 1 with just `message`. */
    const refuses = async (name: string, message: string) => {
      const r = await sb.run("vmup", "-n", ...HEADLESS_TCG, `${base}/${name}`);
      equal(r.code, 1, r.stdout);
      equal(r.stderr, `vmup: ${base}/${name}: ${message}\n`);
    };

    const cd = await sb.run("vmup", ...HEADLESS_TCG, `${base}/boot.iso`);
    equal(cd.code, 0, cd.stderr);
    const cdDir = filesDir(cd);
    await waitFor(
      () => readOr(`${cdDir}/serial.log`).includes("hello from the HTTP CD"),
      30_000,
      "the CD's boot message",
    );
    const cdrom = (await blocks(`${cdDir}/monitor.sock`)).find((b) => b.inserted?.file.includes("boot.iso"));
    equal(cdrom?.inserted?.ro, true, "a read-only CD-ROM drive");
    equal((await sb.run("vmdown", "-k", cdDir)).code, 0);

    const disk = await sb.run("vmup", ...HEADLESS_TCG, `${base}/disk.qcow2`);
    equal(disk.code, 0, disk.stderr);
    const diskDir = filesDir(disk);
    await waitFor(
      () => readOr(`${diskDir}/serial.log`).includes("hello from the HTTP disk"),
      30_000,
      "the disk's boot message",
    );
    const hdd = (await blocks(`${diskDir}/monitor.sock`)).find((b) => b.device === "hdd1");
    // Snapshot mode: QEMU's top image is its throwaway overlay, over the URL.
    equal(hdd?.inserted?.drv, "qcow2");
    match(hdd?.inserted?.image.filename ?? "", /"backing".*"url": "http:[^"]*\/disk\.qcow2".*\/vl\.\w+"/);
    equal((await sb.run("vmdown", "-k", diskDir)).code, 0);

    const byContent = await sb.run("vmup", "-n", ...HEADLESS_TCG, `${base}/cd-image`);
    equal(byContent.code, 0, byContent.stderr);
    deepEqual(drives(byContent.stdout), [
      `file=${base}/cd-image,format=raw,readonly=on,if=ide,index=2,media=cdrom`,
    ]);
    const notCd = await sb.run("vmup", "-n", ...HEADLESS_TCG, `${base}/not-a-cd.iso`);
    equal(notCd.code, 0, notCd.stderr);
    deepEqual(drives(notCd.stdout), [
      `file=${base}/not-a-cd.iso,format=raw,id=hdd1,snapshot=on,if=ide,index=0,media=disk`,
    ]);

    // An image from a server may not make QEMU read a file of this host for the guest.
    Deno.writeTextFileSync(`${sb.dir}/secret`, "the user's own file\n");
    const img = async (...args: string[]) =>
      equal((await new Deno.Command("qemu-img", { args, stdout: "null" }).output()).code, 0);
    await img(
      "create",
      "-q",
      "-f",
      "qcow2",
      "-u",
      "-b",
      `file://${sb.dir}/secret`,
      "-F",
      "raw",
      `${www}/b.qcow2`,
      "1M",
    );
    await img(
      "create",
      "-q",
      "-f",
      "qcow2",
      "-o",
      `data_file=${sb.dir}/secret,data_file_raw=on`,
      `${www}/d.qcow2`,
      "1M",
    );
    Deno.writeTextFileSync(
      `${www}/e.vmdk`,
      `# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType="monolithicFlat"\n` +
        `RW 1 FLAT "${sb.dir}/secret" 0\n`,
    );
    await refuses(
      "e.vmdk",
      `its descriptor names a file on this host as an extent (${sb.dir}/secret); not using it`,
    );
    await refuses(
      "b.qcow2",
      `its backing file is a file on this host (file://${sb.dir}/secret); not using it`,
    );
    // Nor further down its chain: a backing file on the server whose own backing file is the user's.
    await img(
      "create",
      "-q",
      "-f",
      "qcow2",
      "-u",
      "-b",
      `${base}/b.qcow2`,
      "-F",
      "qcow2",
      `${www}/c.qcow2`,
      "1M",
    );
    await refuses(
      "c.qcow2",
      `its backing file is a file on this host (file://${sb.dir}/secret); not using it`,
    );
    await refuses("d.qcow2", `keeps its data in an external file (${sb.dir}/secret); not using it`);

    const missing = await sb.run("vmup", ...HEADLESS_TCG, `${base}/nope.iso`);
    equal(missing.code, 1);
    equal(missing.stderr.split("\n").length, 2, missing.stderr);
    match(
      missing.stderr,
      /^vmup: http:\/\/127\.0\.0\.1:\d+\/nope\.iso: cannot be opened: [^\n]*404[^\n]*\n$/,
    );
    const asDisk = await sb.run(
      "vmup",
      "-n",
      ...HEADLESS_TCG,
      "-c",
      `${base}/nope.qcow2`,
      `${www}/disk.qcow2`,
    );
    equal(asDisk.code, 1);
    match(asDisk.stderr, /^vmup: [^\n]*\/nope\.qcow2: cannot be opened: [^\n]*404\n$/);
  } catch (e) {
    // A failed assertion while the server runs must still stop the guests the test started.
    await sb.cleanup();
    throw e;
  } finally {
    await server.stop();
  }
  try {
    // The server is gone: nothing listens on its port any more.
    const closed = await sb.run("vmup", ...HEADLESS_TCG, `http://127.0.0.1:${server.port}/boot.iso`);
    equal(closed.code, 1);
    match(
      closed.stderr,
      new RegExp(
        `^vmup: http://127\\.0\\.0\\.1:${server.port}/boot\\.iso: cannot be opened: [^\\n]*connect[^\\n]*\\n$`,
      ),
    );
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmup boots an NBD export on a unix socket (nbd+unix://), read-write, without taking qemu-nbd's one connection", async () => {
  const sb = new Sandbox();
  const socket = `${sb.dir}/nbd.sock`;
  const image = `${sb.dir}/exported.qcow2`;
  await makeBootSectorDisk(image, { message: "hello over NBD", format: "qcow2" });
  // Without --persistent qemu-nbd serves one client and exits when it leaves.
  const server = new Deno.Command("qemu-nbd", {
    args: ["-f", "qcow2", "-k", socket, image],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await waitFor(
      () => {
        try {
          return Deno.statSync(socket).isSocket;
        } catch {
          return undefined;
        }
      },
      10_000,
      "qemu-nbd's socket",
    );
    const url = `nbd+unix:///?socket=${socket}`;
    const r = await sb.run("vmup", ...HEADLESS_TCG, url);
    equal(r.code, 0, r.stderr);
    const dir = filesDir(r);
    await waitFor(() => readOr(`${dir}/serial.log`).includes("hello over NBD"), 30_000, "the boot message");
    const hdd = (await blocks(`${dir}/monitor.sock`)).find((b) => b.device === "hdd1");
    equal(hdd?.inserted?.ro, false, "read-write by default");
    equal(hdd?.inserted?.drv, "raw", "an NBD export is a raw disk");
    equal((await sb.run("vmdown", "-k", dir)).code, 0);

    const nothing = await sb.run("vmup", ...HEADLESS_TCG, `nbd+unix:///?socket=${sb.dir}/none.sock`);
    equal(nothing.code, 1);
    equal(
      nothing.stderr,
      `vmup: nbd+unix:///?socket=${sb.dir}/none.sock: no NBD server: ${sb.dir}/none.sock does not exist\n`,
    );
    const tcp = await sb.run("vmup", "-n", ...HEADLESS_TCG, "nbd+tcp://[fd00::1]:10809/disk");
    equal(tcp.code, 0, tcp.stderr);
    deepEqual(drives(tcp.stdout), [
      "file=nbd+tcp://[fd00::1]:10809/disk,format=raw,id=hdd1,if=ide,index=0,media=disk",
    ]);
  } finally {
    try {
      server.kill("SIGKILL");
    } catch { /* it left with its client */ }
    await server.status;
    await sb.cleanup();
  }
});

Deno.test("a server that accepts the connection but never answers is given up on after 10 s, in one line", async () => {
  const sb = new Sandbox();
  // Takes connections and says nothing: the SSH banner never comes, and libssh would wait for ever.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) held.push(conn);
    } catch { /* closed */ }
  })();
  try {
    const url = `ssh://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/disk.img`;
    const r = await sb.run("vmup", "-n", ...HEADLESS_TCG, url);
    equal(r.code, 1);
    equal(r.stderr, `vmup: ${url}: cannot be opened: no answer within 10 s\n`);
  } finally {
    listener.close();
    await accepting;
    for (const c of held) c.close();
    await sb.cleanup();
  }
});
