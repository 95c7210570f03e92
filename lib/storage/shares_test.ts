import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { type Origin, Settings } from "../settings/settings.ts";
import { checkedShares, checkShareArgument, listShares, shareNumbers } from "./shares.ts";

/** A VM home with a directory inside, and one outside it. */
function world() {
  const root = Deno.makeTempDirSync({ prefix: "vmtools-shares-" });
  const home = `${root}/vm`;
  Deno.mkdirSync(`${home}/inside`, { recursive: true });
  Deno.mkdirSync(`${root}/outside`);
  Deno.writeTextFileSync(`${root}/file`, "");
  return { root, home, done: () => Deno.removeSync(root, { recursive: true }) };
}

const VM = (line: number): Origin => ({ layer: "vm", file: "/h/vm.settings", line });

function settings(entries: [string, string, Origin?][]): Settings {
  return new Settings(
    entries.map(([name, value, origin]) => [name, { value, origin: origin ?? { layer: "cmdline" } }]),
  );
}

Deno.test("shares are numbered families in numeric order; an empty path is no share", () => {
  const s = settings([
    ["vm_share10_path", "/a"],
    ["vm_share2_path", "/b"],
    ["vm_share3_path", ""],
    ["vm_share2_tag", "x"],
  ]);
  deepEqual(shareNumbers(s), [2, 10]);
});

Deno.test("a share's defaults: tag shareN, mapped-xattr, read-write; ro: and -s/-r make it read-only", () => {
  const w = world();
  try {
    const s = settings([
      ["vm_share1_path", "inside", VM(1)],
      ["vm_share2_path", `ro:${w.root}/outside`],
      ["vm_share2_tag", "data"],
      ["vm_share2_security", "none"],
    ]);
    const [a, b] = checkedShares(s, w.home);
    deepEqual(
      [a.name, a.path, a.tag, a.security, a.access],
      ["share1", `${w.home}/inside`, "share1", "mapped-xattr", "rw"],
    );
    deepEqual([b.path, b.tag, b.security, b.access], [`${w.root}/outside`, "data", "none", "ro"]);
    equal(
      a.mount,
      "mkdir -p /mnt/share1 && mount -t 9p -o trans=virtio,version=9p2000.L share1 /mnt/share1",
    );
    match(b.mount, /version=9p2000\.L,ro data \/mnt\/data$/);
    for (const mode of ["snap", "ro"]) {
      s.set("vm_storage_rwmode", mode);
      deepEqual(checkedShares(s, w.home).map((x) => x.access), ["ro", "ro"]);
    }
  } finally {
    w.done();
  }
});

Deno.test("a parent's relative share is taken from the parent's home", () => {
  const w = world();
  try {
    const s = settings([["vm_share1_path", "inside", { layer: "parent", source: w.home }]]);
    equal(checkedShares(s, `${w.root}/outside`)[0].path, `${w.home}/inside`);
  } finally {
    w.done();
  }
});

Deno.test("a share that cannot be used is one line naming the file and line", () => {
  const w = world();
  try {
    const cases: [string, string, RegExp][] = [
      ["vm_share1_path", "gone", /\/h\/vm\.settings:1: vm_share1_path: .*\/vm\/gone: no such directory$/],
      ["vm_share1_path", `${w.root}/file`, /vm_share1_path: .*\/file: not a directory$/],
      ["vm_share1_path", "snap:inside", /never snap:/],
      ["vm_share1_tag", "a,b", /: \/h\/vm\.settings:1: vm_share1_tag: 'a,b' is not a mount tag/],
      ["vm_share1_tag", "t".repeat(32), /is not a mount tag \(1 to 31/],
      ["vm_share1_security", "mapped", /vm_share1_security: 'mapped': expected mapped-xattr, mapped-file/],
    ];
    for (const [name, value, expected] of cases) {
      const entries: [string, string, Origin?][] = [["vm_share1_path", "inside", VM(1)]];
      if (name === "vm_share1_path") entries[0] = [name, value, VM(1)];
      else entries.push([name, value, VM(1)]);
      const s = settings(entries);
      throws(() => checkedShares(s, w.home), expected);
      ok(listShares(s, w.home)[0].error, "listShares reports it without throwing");
    }
    const twice = settings([
      ["vm_share1_path", "inside"],
      ["vm_share2_path", "inside"],
      ["vm_share2_tag", "share1"],
    ]);
    throws(() => checkedShares(twice, w.home), /share2: mount tag 'share1' already used by share1/);
  } finally {
    w.done();
  }
});

Deno.test("a VM's own settings share only inside its home or below cfg_share_allow; the user's layers anything", () => {
  const w = world();
  try {
    const outside = `${w.root}/outside`;
    const own = settings([["vm_share1_path", outside, VM(3)]]);
    throws(
      () => checkedShares(own, w.home),
      /vm\.settings:3: vm_share1_path: .*outside: outside the VM home/,
    );
    // A symbolic link inside the home does not lead out of it.
    Deno.symlinkSync(outside, `${w.home}/link`);
    throws(() => checkedShares(settings([["vm_share1_path", "link", VM(3)]]), w.home), /outside the VM home/);
    // Nor does a parent's file.
    throws(
      () =>
        checkedShares(settings([["vm_share1_path", outside, { layer: "parent", source: w.home }]]), w.home),
      /outside the VM home/,
    );
    own.set("cfg_share_allow", `/nowhere ${w.root}`, { layer: "user", source: "/c/vmtools.conf" });
    equal(checkedShares(own, w.home)[0].path, outside);
    own.set("cfg_share_allow", "relative", { layer: "user", source: "/c/vmtools.conf" });
    throws(() => checkedShares(own, w.home), /cfg_share_allow: 'relative' is not an absolute path/);
    for (const layer of ["cmdline", "template", "user", "system", "share"] as const) {
      const s = settings([["vm_share1_path", outside, { layer, source: "x" }]]);
      equal(checkedShares(s, w.home).length, 1, layer);
    }
  } finally {
    w.done();
  }
});

Deno.test("-S is checked before anything is done", () => {
  const w = world();
  try {
    checkShareArgument(`ro:${w.home}`);
    throws(() => checkShareArgument(`${w.root}/gone`), /^VmError: -S: .*\/gone: no such directory$/);
    throws(() => checkShareArgument(`${w.root}/file`), /-S: .*\/file: not a directory/);
    throws(() => checkShareArgument(`snap:${w.home}`), /never snap:/);
  } finally {
    w.done();
  }
});
