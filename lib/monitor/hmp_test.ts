import { deepEqual, equal } from "node:assert/strict";
import { isQuit, isRefusal, normalizeOutput, parseHelp } from "./hmp.ts";
import { complete } from "./interactive.ts";

Deno.test("isQuit knows quit and its alias only", () => {
  equal(isQuit("quit"), true);
  equal(isQuit("  q  "), true);
  equal(isQuit("quitx"), false);
  equal(isQuit("info status"), false);
});

Deno.test("normalizeOutput turns CR LF into LF", () => {
  equal(normalizeOutput("VM status: running\r\n"), "VM status: running\n");
  equal(normalizeOutput("a\rb"), "a\nb");
});

Deno.test("parseHelp reads command names and aliases, skipping continuations", () => {
  const help = [
    "announce_self [interfaces] [id] -- Trigger GARP/RARP announcements",
    "block_job_cancel [-f] device -- stop an active background block operation (use -f",
    "\t\t\t if you want to abort the operation immediately",
    "info|i [subcommand] -- show various information about the system state",
    "quit|q  -- quit the emulator",
    "",
  ].join("\n");
  deepEqual(parseHelp(help), [
    "announce_self",
    "block_job_cancel",
    "i",
    "info",
    "q",
    "quit",
  ]);
});

Deno.test("parseHelp with a prefix reads info subcommands", () => {
  const info = "info balloon  -- show balloon information\n" +
    "info block [-n] [-v] [device] -- show info of one block device\n" +
    "info status  -- show the current VM status (running|paused)\n";
  deepEqual(parseHelp(info, "info"), ["balloon", "block", "status"]);
});

Deno.test("complete offers commands, then info subcommands", () => {
  const cmds = ["info", "quit", "sendkey", "savevm"];
  const infos = ["status", "stats", "name"];
  deepEqual(complete("s", cmds, infos), [["sendkey", "savevm"], "s"]);
  deepEqual(complete("inf", cmds, infos), [["info "], "inf"]);
  deepEqual(complete("info st", cmds, infos), [["status", "stats"], "st"]);
  deepEqual(complete("info n", cmds, infos), [["name "], "n"]);
  deepEqual(complete("sendkey ctrl", cmds, infos), [[], "ctrl"]);
});

Deno.test("isRefusal tells QEMU's refusals from answers", () => {
  equal(isRefusal("unknown command: 'foo'\n"), true);
  equal(
    isRefusal('stop|s: extraneous characters at the end of line\nTry "help stop" for more information\n'),
    true,
  );
  equal(isRefusal("Error: invalid parameter value: xx\n"), true);
  equal(isRefusal("VM status: running\n"), false);
  equal(isRefusal(""), false);
  equal(isRefusal("  Error: in the middle of a line\n"), false);
});
