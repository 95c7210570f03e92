/**
 * `vminfo` (being written).
 * @module
 */
import type { Command } from "../lib/cli/command.ts";
import { UsageError } from "../lib/errors.ts";

const command: Command = {
  name: "vminfo",
  summary: "",
  help: "",
  options: { flags: "h" },
  exec() {
    throw new UsageError("not available yet in this version of vmtools");
  },
};

export default command;
