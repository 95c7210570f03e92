/**
 * The README's provisioning example (examples/provision.sh) runs as written
 * through the installed commands: only the variables at its top are pointed
 * at the test suite's small Linux guest instead of a cloud image.
 * @module
 */
import { equal, ok } from "node:assert/strict";
import { GUEST_HTTP_BODY, linuxGuestIso } from "../fixtures/linux.ts";
import { PROJECT_ROOT, Sandbox } from "../helpers/vmtools.ts";
import { installInto } from "../helpers/install.ts";

const decoder = new TextDecoder();

Deno.test("examples/provision.sh: cloud-init seed, --wait, a forward reached with curl, vmdown -w", async () => {
  const sb = new Sandbox();
  try {
    const prefix = `${sb.dir}/prefix`;
    await installInto(prefix);
    Deno.copyFileSync(await linuxGuestIso(), `${sb.work}/guest.img`);
    // What every test VM gets: TCG (KVM hangs 64-bit guests here), a small memory.
    sb.write("etc/vmtools.conf", "vm_qemu_accel=tcg\nvm_ram_size=256M\n");
    // The test guest prints the seed's marker lines where a cloud image would run cloud-init.
    sb.write("work/seed.yaml", "#cloud-config\n#vmtools-marker: provisioned\n");

    const run = await new Deno.Command("sh", {
      args: [`${PROJECT_ROOT}/examples/provision.sh`],
      cwd: sb.work,
      env: {
        ...sb.env,
        PATH: `${prefix}/bin:${sb.env.PATH}`,
        IMAGE: "guest.img",
        USERDATA: "seed.yaml",
        READY: "VMTOOLS-CIDATA: provisioned",
      },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = decoder.decode(run.stdout);
    const err = decoder.decode(run.stderr);
    equal(run.code, 0, `${out}\n${err}`);
    equal(out.trim(), GUEST_HTTP_BODY, "curl's answer through the forward");
    ok(/ready: VMTOOLS-CIDATA: provisioned/.test(err), err);

    const ps = await sb.run("vmps", "-n");
    equal(ps.stdout.trim(), "", "vmdown -w left nothing running");
  } finally {
    await sb.cleanup();
  }
});

Deno.test("the README shows examples/provision.sh as it is", () => {
  const readme = Deno.readTextFileSync(`${PROJECT_ROOT}/README.md`);
  const script = Deno.readTextFileSync(`${PROJECT_ROOT}/examples/provision.sh`);
  ok(readme.includes("```sh\n" + script + "```\n"), "README.md and examples/provision.sh differ");
});
