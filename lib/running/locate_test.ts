import { equal, throws } from "node:assert/strict";
import { VmError } from "../errors.ts";
import { DEFAULTS } from "../settings/defaults.ts";
import { Settings } from "../settings/settings.ts";
import { locateVm, targetFile } from "./locate.ts";

const tool = new Settings(
  Object.entries(DEFAULTS).map(([k, v]) => [k, { value: v, origin: { layer: "default" } }]),
);

Deno.test("locateVm: a home, a file in it, its sockets, a foreign socket", () => {
  const dir = Deno.makeTempDirSync();
  const listeners: Deno.Listener[] = [];
  try {
    const home = `${dir}/vm`;
    Deno.mkdirSync(home);
    Deno.writeTextFileSync(`${home}/vm.settings`, "");
    Deno.writeTextFileSync(`${home}/disk.img`, "");
    for (const s of [`${home}/monitor.sock`, `${home}/serial.sock`, `${dir}/other.sock`]) {
      listeners.push(Deno.listen({ transport: "unix", path: s }));
    }
    const t = locateVm(home, tool);
    equal(t.isHome, true);
    equal(targetFile(t, "monitor"), `${home}/monitor.sock`);
    equal(targetFile(t, "serial"), `${home}/serial.sock`);
    equal(targetFile(t, "serialLog"), `${home}/serial.log`);

    const f = locateVm(`${home}/disk.img`, tool);
    equal(f.dir, home);
    equal(targetFile(f, "monitor"), `${home}/monitor.sock`);

    // The serial socket given to the monitor means "the VM of this socket".
    const s = locateVm(`${home}/serial.sock`, tool);
    equal(targetFile(s, "monitor"), `${home}/monitor.sock`);
    equal(targetFile(s, "serial"), `${home}/serial.sock`);

    const o = locateVm(`${dir}/other.sock`, tool);
    equal(o.isHome, false);
    equal(targetFile(o, "monitor"), `${dir}/other.sock`);
    equal(targetFile(o, "serialLog"), `${dir}/serial.log`);
  } finally {
    for (const l of listeners) l.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("locateVm: a runtime directory is accepted, other directories are not", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${dir}/run`);
    Deno.writeTextFileSync(`${dir}/run/qemu.pid`, "1\n");
    equal(locateVm(`${dir}/run`, tool).isHome, false);
    Deno.mkdirSync(`${dir}/empty`);
    throws(
      () => locateVm(`${dir}/empty`, tool),
      (e) => e instanceof VmError && /not a VM home/.test(e.message),
    );
    throws(() => locateVm(`${dir}/missing`, tool), /no such file/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
