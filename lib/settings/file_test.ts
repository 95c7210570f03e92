import { deepEqual, equal, throws } from "node:assert/strict";
import {
  addTemplates,
  assignments,
  formatSettings,
  parentOf,
  parseSettings,
  setParent,
  SettingsError,
  setValue,
  templatesOf,
  writeFileAtomic,
} from "./file.ts";

const sample = `# my VM
template modern big_ram
parent '../base vm'

vm_name='John'\\''s VM'  # the display name
vm_ram_size=4G
`;

Deno.test("parse reads assignments, templates and parent", () => {
  const f = parseSettings(sample, "vm.settings", "vm");
  deepEqual(assignments(f), [["vm_name", "John's VM"], ["vm_ram_size", "4G"]]);
  deepEqual(templatesOf(f), ["modern", "big_ram"]);
  equal(parentOf(f), "../base vm");
  equal(formatSettings(f), sample);
});

Deno.test("updates keep comments and order, and quote values", () => {
  const f = parseSettings(sample, "vm.settings", "vm");
  setValue(f, "vm_name", "new, name");
  setValue(f, "vm_cpu_count", "4");
  setValue(f, "vm_ram_size", undefined);
  equal(
    formatSettings(f),
    `# my VM\ntemplate modern big_ram\nparent '../base vm'\n\nvm_name='new, name'  # the display name\nvm_cpu_count=4\n`,
  );
});

Deno.test("parent and template lines are added in sensible places", () => {
  const f = parseSettings("# header\nvm_ram_size=1G\n", "x", "vm");
  setParent(f, "/p");
  addTemplates(f, ["legacy"]);
  addTemplates(f, ["legacy"]);
  equal(
    formatSettings(f),
    "# header\nparent /p\ntemplate legacy\nvm_ram_size=1G\n",
  );
  setParent(f, undefined);
  equal(parentOf(f), undefined);
});

Deno.test("every malformed line is reported with file and line", () => {
  const cases: [string, "vm" | "conf" | "template", RegExp][] = [
    ["vm_a=1\nvm_b = 2\n", "vm", /^f:2: no spaces allowed around '='$/],
    ["vm_a= 2\n", "vm", /^f:1: no spaces allowed/],
    ["hello\n", "vm", /^f:1: expected 'name=value'/],
    ["foo=1\n", "vm", /^f:1: setting 'foo' must start with 'cfg_' or 'vm_'$/],
    ["vm-a=1\n", "vm", /^f:1: bad setting name 'vm-a'$/],
    [
      "cfg_limit_nesting=3\n",
      "vm",
      /^f:1: tool setting 'cfg_limit_nesting' is only allowed/,
    ],
    ["cfg_limit_nesting=3\n", "template", /^f:1: tool setting/],
    ["vm_a='open\n", "vm", /^f:1: unterminated quote \(column 6\)$/],
    [
      "vm_a=x$y\n",
      "vm",
      /^f:1: character '\$' must be inside single quotes \(column 7\)$/,
    ],
    ["vm_a=x y\n", "vm", /^f:1: unexpected text after the value/],
    ["parent a\nparent b\n", "vm", /^f:2: 'parent' given more than once$/],
    ["parent a\n", "template", /^f:1: 'parent' is only allowed/],
    ["template a-b\n", "vm", /^f:1: bad template name 'a-b'/],
    ["template x\n", "conf", /^f:1: 'template' is not allowed/],
  ];
  for (const [text, kind, msg] of cases) {
    throws(
      () => parseSettings(text, "f", kind),
      (e) => e instanceof SettingsError && msg.test(e.message),
      text,
    );
  }
});

Deno.test("cfg_ settings are fine in vmtools.conf", () => {
  const f = parseSettings("cfg_limit_nesting=3\n", "f", "conf");
  deepEqual(assignments(f), [["cfg_limit_nesting", "3"]]);
});

Deno.test("setValue refuses values no file can hold", () => {
  const f = parseSettings("", "f", "vm");
  throws(() => setValue(f, "vm_name", "a\nb"), /newline/);
});

Deno.test("writeFileAtomic replaces the file and leaves no temporary behind", () => {
  const dir = Deno.makeTempDirSync();
  writeFileAtomic(`${dir}/vm.settings`, "vm_a=1\n");
  writeFileAtomic(`${dir}/vm.settings`, "vm_a=2\n");
  equal(Deno.readTextFileSync(`${dir}/vm.settings`), "vm_a=2\n");
  deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["vm.settings"]);
  Deno.removeSync(dir, { recursive: true });
});

/** Asserts that parsing `text` fails with a message matching `msg`. */
function refused(text: string, msg: RegExp): void {
  throws(
    () => parseSettings(text, "f", "vm"),
    (e) => e instanceof SettingsError && msg.test(e.message),
    JSON.stringify(text.length > 80 ? text.slice(0, 80) : text),
  );
}

Deno.test("NUL is refused with its line and column, quoted or not, and so are CR-only line ends", () => {
  const cases: [string, RegExp][] = [
    ["vm_a=1\nvm_b='x\0y'\n", /^f:2: NUL at column 8: not allowed in settings files, not even quoted$/],
    ["# a\0comment\n", /^f:1: NUL at column 4:/],
    [
      "# old Mac\rvm_ram_size=8G\r",
      /^f:1: carriage return without line feed: settings files use LF \(or CR LF\) line ends$/,
    ],
    ["vm_a=1\nvm_b=2\nvm_c='x\ry'\n", /^f:3: carriage return without line feed/],
    ["vm_a=1\r\nvm_b=2\r", /^f:2: carriage return without line feed/],
    ["vm_a=x\x01\n", /^f:1: control character U\+0001 must be inside single quotes \(column 7\)$/],
  ];
  for (const [text, msg] of cases) {
    throws(
      () => parseSettings(text, "f", "vm"),
      (e) => e instanceof SettingsError && msg.test(e.message),
      JSON.stringify(text),
    );
  }
  const crlf = "# made on Windows\r\ntemplate modern\r\nvm_a='x y'  # c\r\n";
  const f = parseSettings(crlf, "f", "vm");
  deepEqual(assignments(f), [["vm_a", "x y"]]);
  deepEqual(templatesOf(f), ["modern"]);
  equal(formatSettings(f), crlf);
});

Deno.test("template lists: blanks, tabs and a trailing comment, read in linear time", () => {
  // 150 000 blanks made the old comment-stripping regex run for 18 s.
  const blanks = " ".repeat(150_000);
  deepEqual(templatesOf(parseSettings(`template a${blanks}b\n`, "f", "vm")), ["a", "b"]);
  deepEqual(templatesOf(parseSettings(`template a${blanks}# c d\n`, "f", "vm")), ["a"]);
  deepEqual(templatesOf(parseSettings("template\ta \t b\t#x\n", "f", "vm")), ["a", "b"]);
  const many = Array.from({ length: 200_000 }, (_, i) => `t${i}`);
  deepEqual(templatesOf(parseSettings(`template ${many.join(" ")}\n`, "f", "vm")), many);
  refused("template  # none\n", /^f:1: 'template' needs at least one name$/);
  refused("template a#b\n", /bad template name 'a#b'/);
  refused(
    `template ${"a".repeat(300)}\n`,
    /^f:1: template name 'a{60}\.\.\. \(300 characters\)' too long \(at most 251 characters\)$/,
  );
});

Deno.test("long values and paths: read whole, or refused in one short line", () => {
  const params = "-x ".repeat(300_000);
  const f = parseSettings(`vm_qemu_params='${params}'\n`, "f", "vm");
  equal(assignments(f)[0][1], params);
  const glued = `'a'\\''b'`.repeat(100_000);
  equal(assignments(parseSettings(`vm_name=${glued}\n`, "f", "vm"))[0][1], "a'b".repeat(100_000));
  equal(assignments(parseSettings(`vm_name=${"a".repeat(1_000_000)}\n`, "f", "vm"))[0][1].length, 1_000_000);
  refused(`vm_name=a${" ".repeat(1_000_000)}x\n`, /^f:1: unexpected text after the value at column 10$/);
  refused(`parent ${"a/".repeat(500_000)}\n`, /^f:1: parent path too long \(1000000 bytes, at most 4095\)$/);
  equal(parentOf(parseSettings(`parent ${"a/".repeat(2000)}\n`, "f", "vm"))?.length, 4000);
  refused(`vm_${"a".repeat(100)}-=1\n`, /^f:1: bad setting name 'vm_a{57}\.\.\. \(104 characters\)'$/);
});

Deno.test("writeFileAtomic keeps a replaced file's mode less go-w, and never reuses a leftover temporary", () => {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/vm.settings`;
  const mode = () => Deno.statSync(path).mode! & 0o777;
  writeFileAtomic(path, "vm_a=1\n");
  equal(mode() & 0o022, 0);
  Deno.chmodSync(path, 0o600);
  writeFileAtomic(path, "vm_a=2\n");
  equal(mode(), 0o600);
  Deno.chmodSync(path, 0o666);
  writeFileAtomic(path, "vm_a=3\n");
  equal(mode(), 0o644);
  Deno.removeSync(path);
  const leftover = `${path}.tmp-${Deno.pid}`;
  Deno.writeTextFileSync(leftover, "stale and long, longer than the new text\n");
  Deno.chmodSync(leftover, 0o666);
  writeFileAtomic(path, "vm_a=4\n");
  equal(Deno.readTextFileSync(path), "vm_a=4\n");
  equal(mode() & 0o022, 0);
  deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["vm.settings"]);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("under umask 000, writeFileAtomic creates files writable by their owner only", async () => {
  const dir = Deno.makeTempDirSync();
  // The umask is per process: change it in a child, not in the test runner.
  const script = `
    import { writeFileAtomic } from ${JSON.stringify(new URL("./file.ts", import.meta.url).href)};
    Deno.umask(0);
    writeFileAtomic(${JSON.stringify(`${dir}/vm.settings`)}, "vm_a=1\\n");
    writeFileAtomic(${JSON.stringify(`${dir}/childs.lst`)}, "../child\\n");
    const probe = ${JSON.stringify(`${dir}/probe`)};
    Deno.writeTextFileSync(probe, "");
    console.log((Deno.statSync(probe).mode & 0o777).toString(8));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  equal(out.code, 0, new TextDecoder().decode(out.stderr));
  equal(new TextDecoder().decode(out.stdout).trim(), "666", "the child really ran under umask 000");
  for (const name of ["vm.settings", "childs.lst"]) {
    equal((Deno.statSync(`${dir}/${name}`).mode! & 0o777).toString(8), "644", name);
  }
  Deno.removeSync(dir, { recursive: true });
});
