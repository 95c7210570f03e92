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

Deno.test("targetFile: a socket of the home that is a symbolic link (to another VM's) is refused", () => {
  const dir = Deno.makeTempDirSync();
  const other = Deno.listen({ transport: "unix", path: `${dir}/other.sock` });
  try {
    const home = `${dir}/vm`;
    Deno.mkdirSync(home);
    Deno.writeTextFileSync(`${home}/vm.settings`, "");
    Deno.symlinkSync(`${dir}/other.sock`, `${home}/monitor.sock`);
    Deno.symlinkSync("../other.sock", `${home}/serial.sock`);
    const t = locateVm(home, tool);
    for (const want of ["monitor", "serial"] as const) {
      throws(
        () => targetFile(t, want),
        (e) =>
          e instanceof VmError &&
          e.message === `${home}/${want}.sock: a symbolic link, not this VM's own socket ` +
              `(it may lead to another VM); not followed`,
      );
    }
    // A socket given by its own path is still used as given.
    equal(targetFile(locateVm(`${dir}/other.sock`, tool), "monitor"), `${dir}/other.sock`);
  } finally {
    other.close();
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
