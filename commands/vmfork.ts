/**
 * `vmfork`: make children of a VM (one source, one or more destinations),
 * each on overlays of the source's disks.
 * @module
 */
import type { Command } from "../lib/cli/command.ts";
import { UsageError } from "../lib/errors.ts";
import { destination } from "../lib/tree/scan.ts";
import { COPY_OPTIONS, copyExec } from "./vmcp.ts";

/** `vmfork` as `main.ts` loads it: its declaration (options, usage, help) beside `exec`. */
const command: Command = {
  name: "vmfork",
  summary: "fork a VM into children that share its disks",
  synopsis: ["source dest ..."],
  description: `Make each dest a child of the source VM: its disks are overlays on the
source's (instant, whatever their size), its settings only what differs —
the rest it inherits, so a change to the parent reaches every child. An
existing directory receives the fork as a subdirectory. The source must
not be running, and once it has children it starts only with -s or -r.`,
  options: COPY_OPTIONS,
  operands: "vmhome",
  notes: `-c, -a and the other options work as for vmcp(1). Interrupted or
failed, a fork leaves nothing behind.`,
  examples: [
    ["vmfork ~/vms/base ~/vms/base/web ~/vms/base/db", "two children of base"],
    ["vmfork -k ~/vms/base ~/vms/base/twin", "a child with the same MAC"],
    ["vmup ~/vms/base/web", "start a child"],
  ],
  exec(args, io) {
    return copyExec(args, io, "fork", (operands) => {
      if (operands.length < 2) throw new UsageError("need a source and at least one destination");
      const [source, ...dests] = operands;
      return dests.map((d) => [source, destination(source, d)]);
    });
  },
};

export default command;
