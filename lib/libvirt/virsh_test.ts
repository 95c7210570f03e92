import { equal, match } from "node:assert/strict";
import { checkUri, virsh, virshError } from "./virsh.ts";

/** Runs `body` with a `virsh` on PATH that is the given shell script. */
async function withFakeVirsh(script: string, body: () => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vmtools-virsh-" });
  const path = Deno.env.get("PATH") ?? "";
  try {
    await Deno.writeTextFile(`${dir}/virsh`, `#!/bin/sh\n${script}\n`, { mode: 0o755 });
    Deno.env.set("PATH", `${dir}:${path}`);
    await body();
  } finally {
    Deno.env.set("PATH", path);
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a virsh that never answers is killed after the time given, and says so", async () => {
  await withFakeVirsh("exec sleep 600", async () => {
    const started = Date.now();
    const r = await virsh("qemu:///session", ["list", "--uuid"], undefined, 300);
    equal(r.code, 1);
    match(r.stderr, /no answer within 0.3 s to virsh list/);
    match(virshError("qemu:///session", r.stderr).message, /^libvirt \(qemu:\/\/\/session\): no answer/);
    // Killed, not waited for: far less than the 600 s it would sleep.
    equal(Date.now() - started < 30_000, true);
  });
});

Deno.test("virsh's own answer and status come back as they are; its input reaches it", async () => {
  await withFakeVirsh('cat; echo "error: failed to connect to the hypervisor" >&2; exit 3', async () => {
    const r = await virsh("qemu:///session", ["create", "/dev/stdin"], "<domain/>");
    equal(r.code, 3);
    equal(r.stdout, "<domain/>");
    match(virshError("qemu:///session", r.stderr).message, /cannot be reached/);
  });
});

Deno.test("URIs that make libvirt run a program are refused", () => {
  for (
    const uri of [
      "qemu+ext:///system?command=/bin/x",
      "qemu+ssh://h/system?netcat=x",
      "qemu+ssh://h/system?Command=x",
    ]
  ) {
    let message = "";
    try {
      checkUri(uri);
    } catch (e) {
      message = (e as Error).message;
    }
    match(message, /runs a program/, uri);
  }
  equal(checkUri("qemu:///system"), "qemu:///system");
});
