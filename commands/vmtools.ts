/**
 * `vmtools --install-links DIR [--force]`: the options of the program
 * itself, as opposed to its thirteen commands. It links the command names
 * in DIR to the executable the user ran, so that a downloaded binary needs
 * no install script.
 * @module
 */
import type { Command } from "../lib/cli/command.ts";
import { COMMON_OPTIONS } from "../lib/cli/spec.ts";
import { verbosityOf } from "../lib/cli/command.ts";
import { UsageError } from "../lib/errors.ts";
import { runningExecutable, thisProcess } from "../lib/install/executable.ts";
import { applyLinks, planLinks } from "../lib/install/links.ts";
import { resolve } from "../lib/path.ts";
import { DEFAULTS } from "../lib/settings/defaults.ts";
import { Logger } from "../lib/ui/log.ts";

/** The `vmtools` command for the command names `names` (main.ts's list). */
export default function vmtools(names: readonly string[]): Command {
  return {
    name: "vmtools",
    manual: "vmtools(7)",
    summary: "the program itself: links its command names",
    synopsis: ["--install-links DIR [--force]"],
    description: `Make the ${names.length} command names (${names[0]}, ${names[1]}, ...) symbolic links
in DIR to this executable: the compiled vmtools, or the launcher that
scripts/install wrote. DIR is made if it is missing. Names that already lead
here are left alone; a file or another link of such a name stops it, changing
nothing, unless --force.`,
    options: [
      {
        long: "install-links",
        value: "DIR",
        help: "link the command names in DIR to this executable",
        complete: "dir",
      },
      { long: "force", help: "replace files and links of those names that lead elsewhere" },
      ...COMMON_OPTIONS,
    ],
    operands: "none",
    examples: [
      ["vmtools --install-links ~/.local/bin", "vmup, vmps, ... in ~/.local/bin"],
      ["sudo ./vmtools --install-links /usr/local/bin", "for every user"],
    ],
    exec(args, io) {
      const dirs = args.values["install-links"] ?? [];
      if (args.operands.length) throw new UsageError(`unexpected argument '${args.operands[0]}'`);
      if (dirs.length === 0) {
        throw new UsageError(
          args.count.force ? "--force goes with --install-links DIR" : "--install-links DIR is missing",
        );
      }
      if (dirs.length > 1) throw new UsageError("one --install-links DIR at a time");
      if (dirs[0] === "") throw new UsageError("--install-links: the directory is empty");
      const log = new Logger(io.prog, verbosityOf(Number(DEFAULTS.cfg_ui_verbosity), args), io.output);
      const executable = runningExecutable(thisProcess(io.env, io.cwd));
      const plan = planLinks(resolve(dirs[0], io.cwd), executable, names, Boolean(args.count.force));
      applyLinks(plan);
      const count = (action: string) => plan.steps.filter((s) => s.action === action).length;
      const [made, replaced] = [count("make"), count("replace")];
      for (const s of plan.steps.filter((s) => s.action !== "keep")) {
        log.step(`${s.path} -> ${plan.text}${s.was ? ` (was ${s.was})` : ""}`);
      }
      if (made + replaced === 0) {
        log.info(`the ${names.length} command links in ${plan.dir} already lead to ${executable}`);
      } else {
        const done = [...(made ? [`${made} made`] : []), ...(replaced ? [`${replaced} replaced`] : [])];
        log.info(`${names.length} command links in ${plan.dir} lead to ${executable} (${done.join(", ")})`);
      }
      return Promise.resolve(0);
    },
  };
}
