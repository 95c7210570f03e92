import { equal } from "node:assert/strict";
import { diskUse, identityRows } from "./identity.ts";
import { userName } from "../users.ts";

Deno.test("userName reads /etc/passwd lines", () => {
  const passwd = "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n";
  equal(userName(1000, passwd), "alice");
  equal(userName(0, passwd), "root");
  equal(userName(4242, passwd), null);
});

Deno.test("diskUse counts files below the home but not child VM homes", () => {
  const home = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${home}/vm.settings`, "vm_name=x\n");
    Deno.mkdirSync(`${home}/data`);
    Deno.writeFileSync(`${home}/data/blob`, new Uint8Array(64 * 1024).fill(1));
    Deno.mkdirSync(`${home}/child`);
    Deno.writeTextFileSync(`${home}/child/vm.settings`, "parent ..\n");
    Deno.writeFileSync(`${home}/child/big`, new Uint8Array(1024 * 1024).fill(1));
    const use = diskUse(home, "vm.settings");
    equal(use >= 64 * 1024 && use < 1024 * 1024, true, `diskUse ${use}`);
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("identityRows: short form, then long form with a root VM", () => {
  const id = {
    name: "deb",
    home: "/vms/deb",
    state: "not running" as const,
    running: false,
    pid: null,
    forwards: [],
    parent: null,
    children: 2,
    runState: null,
    display: null,
    monitor: "/vms/deb/monitor.sock",
    owner: { uid: 1000, user: "alice" },
    cpuPercent: null,
    memory: null,
    diskUse: 2048,
  };
  equal(identityRows(id, false).map((r) => r.key).join(" "), "name state");
  equal(
    identityRows(id, true).map((r) => `${r.key}=${r.value}`).join(" "),
    "name=deb state=not running home=/vms/deb parent= children=2 " +
      "monitor=/vms/deb/monitor.sock owner=alice disk_use=2K",
  );
});

Deno.test("identityRows: forwards in QEMU's syntax, marked as configured while the VM is stopped", () => {
  const forward = {
    iface: 1,
    protocol: "tcp" as const,
    host: "127.0.0.1",
    hostPort: 0,
    guest: "",
    guestPort: 22,
  };
  const stopped = { name: "web", home: "/vms/web", state: "not running" as const, running: false, pid: null };
  const rows = identityRows({
    ...stopped,
    forwards: [forward, { ...forward, hostPort: 8080, guestPort: 80 }],
  }, false);
  equal(
    rows.map((r) => `${r.key}=${r.value}`).join(" "),
    "name=web state=not running forwards=tcp:127.0.0.1:0-:22 tcp:127.0.0.1:8080-:80",
  );
  equal(rows.at(-1)?.comment, "as configured");
  const running = { ...stopped, state: "RUNNING" as const, running: true, pid: 42 };
  const live = identityRows(
    { ...running, forwards: [{ ...forward, hostPort: 41234, guest: "10.0.2.15" }] },
    false,
  );
  equal(live.at(-1)?.value, "tcp:127.0.0.1:41234-10.0.2.15:22");
  equal(live.at(-1)?.comment, undefined);
});
