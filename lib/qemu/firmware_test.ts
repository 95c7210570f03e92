import { deepEqual, equal, match, throws } from "node:assert/strict";
import { parseFirmwareDescriptor, readFirmwareDescriptors } from "./firmware.ts";

/** A descriptor as Debian's ovmf writes them. */
function descriptor(code: string, features: string[] = [], machines = ["pc-q35-*"]): string {
  return JSON.stringify({
    description: `firmware ${code}`,
    "interface-types": ["uefi"],
    mapping: {
      device: "flash",
      executable: { filename: `/fw/${code}.fd`, format: "raw" },
      "nvram-template": { filename: `/fw/${code}-vars.fd`, format: "raw" },
    },
    targets: [{ architecture: "x86_64", machines }],
    features,
    tags: [],
  });
}

Deno.test("descriptors: a later directory replaces a file of the same name or hides it, then they go by name", () => {
  const dir = Deno.makeTempDirSync();
  try {
    for (const d of ["share", "etc"]) Deno.mkdirSync(`${dir}/${d}`);
    Deno.writeTextFileSync(`${dir}/share/60-plain.json`, descriptor("plain"));
    Deno.writeTextFileSync(`${dir}/share/50-secure.json`, descriptor("secure", ["secure-boot"]));
    Deno.writeTextFileSync(`${dir}/share/40-hidden.json`, descriptor("hidden"));
    Deno.writeTextFileSync(`${dir}/share/README`, "not a descriptor");
    Deno.writeTextFileSync(`${dir}/etc/60-plain.json`, descriptor("local"));
    Deno.writeTextFileSync(`${dir}/etc/40-hidden.json`, "");
    Deno.writeTextFileSync(`${dir}/etc/10-broken.json`, "{");
    Deno.writeTextFileSync(`${dir}/etc/20-shape.json`, JSON.stringify({ mapping: {} }));
    const warnings: string[] = [];
    const found = readFirmwareDescriptors(
      [`${dir}/share`, `${dir}/missing`, `${dir}/etc`],
      { warn: (m) => warnings.push(m) },
    );
    deepEqual(found.map((d) => d.flash?.executable.filename), ["/fw/secure.fd", "/fw/local.fd"]);
    deepEqual(found.map((d) => d.file), [`${dir}/share/50-secure.json`, `${dir}/etc/60-plain.json`]);
    equal(warnings.length, 2);
    match(warnings[0], /10-broken\.json: not a firmware descriptor/);
    match(warnings[1], /20-shape\.json: not a firmware descriptor \(interface-types: not a list\)/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("descriptors: only split flash has the images vmtools attaches", () => {
  const d = parseFirmwareDescriptor("x.json", JSON.parse(descriptor("a", ["requires-smm"])));
  deepEqual(d.flash, {
    executable: { filename: "/fw/a.fd", format: "raw" },
    nvramTemplate: { filename: "/fw/a-vars.fd", format: "raw" },
  });
  deepEqual(d.features, ["requires-smm"]);
  deepEqual(d.targets, [{ architecture: "x86_64", machines: ["pc-q35-*"] }]);
  const memory = JSON.parse(descriptor("b"));
  memory.mapping = { device: "memory", filename: "/fw/b.bin" };
  equal(parseFirmwareDescriptor("y.json", memory).flash, undefined);
  const stateless = JSON.parse(descriptor("c"));
  stateless.mapping.mode = "stateless";
  equal(parseFirmwareDescriptor("z.json", stateless).flash, undefined);
  throws(() => parseFirmwareDescriptor("w.json", []), /the file: not an object/);
});
