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
