import { equal, throws } from "node:assert/strict";
import { editModuleList, isModuleList, ListEditError } from "./module_list.ts";

const DEFAULT = "qemu boot cpu ram";

Deno.test("a plain list is not a change: it replaces", () => {
  equal(editModuleList(DEFAULT, "qemu ram c_x"), undefined);
  equal(editModuleList(DEFAULT, ""), undefined);
  equal(editModuleList(DEFAULT, "'unterminated"), undefined, "malformed lists are reported where read");
});

Deno.test("+name appends, +name@other inserts before other, -name removes, left to right", () => {
  equal(editModuleList(DEFAULT, "+c_rng"), "qemu boot cpu ram c_rng");
  equal(editModuleList(DEFAULT, "+c_rng@cpu"), "qemu boot c_rng cpu ram");
  equal(editModuleList(DEFAULT, "-boot"), "qemu cpu ram");
  equal(editModuleList(DEFAULT, "+c_a -c_a +c_b"), "qemu boot cpu ram c_b");
  equal(editModuleList(DEFAULT, "+qemu"), "boot cpu ram qemu", "an added name moves, once");
  equal(editModuleList("qemu qemu ram", "-qemu"), "ram", "every copy goes");
  equal(editModuleList(DEFAULT, "-qemu -boot -cpu -ram"), "");
});

Deno.test("changes that cannot apply say why", () => {
  throws(
    () => editModuleList(DEFAULT, "-c_x"),
    new ListEditError("cannot remove 'c_x': not in the list ('qemu boot cpu ram')"),
  );
  throws(() => editModuleList("", "-c_x"), /not in the list \(empty\)/);
  throws(
    () => editModuleList(DEFAULT, "+c_x@c_y"),
    /cannot add 'c_x' before 'c_y': 'c_y' is not in the list/,
  );
  throws(() => editModuleList(DEFAULT, "+c_x ram"), /'ram' is a plain name among \+\/- changes/);
  for (const bad of ["+", "-", "+a/b", "-a@b", "+a@", "++a", "+a@b@c"]) {
    throws(() => editModuleList(DEFAULT, bad), /is not a change: write \+NAME, \+NAME@BEFORE or -NAME/, bad);
  }
});

Deno.test("only cfg_modules_* lists take the append form", () => {
  equal(isModuleList("cfg_modules_buildcmd"), true);
  equal(isModuleList("vm_qemu_params"), false);
});
