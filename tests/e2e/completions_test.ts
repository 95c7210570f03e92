/**
 * `vmtools completions bash|zsh|fish`: the scripts complete each command's
 * options, VM homes, image files and directories, and setting names after
 * -o, in the real shells.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { Sandbox } from "../helpers/vmtools.ts";

/** A work directory holding a VM home, an image, a text file and a plain directory. */
function populate(sb: Sandbox): void {
  sb.write("work/vm1/vm.settings", "vm_ram_size=64M\n");
  sb.write("work/disk.qcow2", "");
  sb.write("work/notes.txt", "not an image\n");
  Deno.mkdirSync(`${sb.work}/plain`);
}

/** Whether `program` can be run. */
async function have(program: string): Promise<boolean> {
  try {
    return (await new Deno.Command(program, { args: ["--version"], stdout: "null", stderr: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

async function shell(sb: Sandbox, program: string, ...args: string[]) {
  const out = await new Deno.Command(program, {
    args,
    cwd: sb.work,
    env: { HOME: sb.env.HOME, PATH: sb.env.PATH, XDG_CONFIG_HOME: sb.env.XDG_CONFIG_HOME },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * Sources the bash script and completes each line (its words, the last one
 * being completed) as bash does on Tab: COMP_WORDS, COMP_CWORD, COMP_LINE
 * and COMP_POINT set, the function called, COMPREPLY read. `compopt` is
 * recorded instead of run (it works only inside a real completion).
 */
async function bashComplete(sb: Sandbox, script: string, lines: string[][]) {
  const harness = `
source "$1"
compopt() { asked+=("$*"); }
ask() {
  COMP_WORDS=("$@") COMP_CWORD=$(($# - 1)) COMP_LINE="$*" COMP_POINT=\${#COMP_LINE}
  COMPREPLY=() asked=()
  _vmtools "$1" "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD - 1]}"
  local IFS=$'\\t'
  printf '%s\\n%s\\n' "\${COMPREPLY[*]}" "\${asked[*]}"
}
${lines.map((words) => `ask ${words.map((w) => `'${w}'`).join(" ")}`).join("\n")}
`;
  const r = await shell(sb, "bash", "-c", harness, "bash", script);
  equal(r.code, 0, r.stderr);
  equal(r.stderr, "");
  const out = r.stdout.split("\n");
  return lines.map((_, i) => ({
    reply: out[2 * i] === "" ? [] : out[2 * i].split("\t").sort(),
    compopt: out[2 * i + 1],
  }));
}

Deno.test("bash: vmup -<TAB> offers its options, vmup <TAB> VM homes, images and directories", async () => {
  const sb = new Sandbox();
  try {
    populate(sb);
    const r = await sb.run("vmtools", "completions", "bash");
    equal(r.code, 0, r.stderr);
    const script = sb.write("vmtools.bash", r.stdout);
    const [options, operands, setting, glued, down, sub, value, access, json] = await bashComplete(
      sb,
      script,
      [
        ["vmup", "-"],
        ["vmup", ""],
        ["vmup", "-o", "vm_ram"],
        ["vmup", "-yovm_ram_s"],
        ["vmdown", ""],
        ["vmtools", "up", "-c", ""],
        ["vmup", "-o", "vm_boot_menu", "=", ""],
        ["vmup", "-c", "rw", ":", "d"],
        ["vmps", "--j"],
      ],
    );
    deepEqual(
      options.reply,
      [
        "--help",
        "--json",
        "--libvirt",
        "--timeout",
        "--wait",
        "-C",
        "-D",
        "-S",
        "-b",
        "-c",
        "-d",
        "-h",
        "-i",
        "-n",
        "-o",
        "-q",
        "-r",
        "-s",
        "-t",
        "-v",
        "-y",
        "-z",
      ],
    );
    // Directories are offered to descend into (a VM home is one); the text file is not.
    deepEqual(operands.reply, ["disk.qcow2", "plain", "vm1"]);
    equal(operands.compopt, "-o filenames"); // bash quotes them and marks directories
    deepEqual(setting.reply, ["vm_ram_size="]);
    equal(setting.compopt, "-o nospace");
    deepEqual(glued.reply, ["-yovm_ram_size="]);
    deepEqual(down.reply, ["plain", "vm1"], "vmdown takes VM homes: no image");
    deepEqual(sub.reply, ["disk.qcow2", "plain", "vm1"], "vmtools up completes as vmup");
    deepEqual(value.reply, ["no", "yes"], "a yes/no setting's values, after the = bash split off");
    deepEqual(access.reply, ["disk.qcow2"], "a path after an access prefix");
    deepEqual(json.reply, ["--json"]);
  } finally {
    await sb.cleanup();
  }
});

Deno.test("zsh and fish scripts parse; fish completes options, paths and settings", async () => {
  const sb = new Sandbox();
  try {
    populate(sb);
    for (const program of ["zsh", "fish"]) {
      const r = await sb.run("vmtools", "completions", program);
      equal(r.code, 0, r.stderr);
      const script = sb.write(`vmtools.${program}`, r.stdout);
      if (!await have(program)) {
        console.log(`${program} is not installed: its completion script is not checked`);
        continue;
      }
      const parsed = await shell(sb, program, "-n", script);
      equal(parsed.code, 0, `${program} -n: ${parsed.stderr}`);
      if (program === "zsh") {
        match(
          r.stdout,
          /^#compdef vmtools vmup vmcreate vmdown vmps vminfo vmcp vmfork vmmerge vmmv vmrm vmfix vmmon vmrndmac\n/,
        );
        continue;
      }
      const complete = async (line: string) => {
        const c = await shell(sb, "fish", "--no-config", "-c", `source ${script}; complete -C '${line}'`);
        equal(c.code, 0, c.stderr);
        return c.stdout.split("\n").filter(Boolean).sort();
      };
      const options = await complete("vmup -");
      ok(options.includes("-o\tset a setting for this run (repeatable)"), options.join("\n"));
      ok(options.includes("--help\tthis help"));
      deepEqual(await complete("vmup "), ["disk.qcow2\timage", "plain/\tdirectory", "vm1/\tVM home"]);
      deepEqual(await complete("vmup -o vm_ram"), ["vm_ram_size=\tset a setting for this run (repeatable)"]);
      deepEqual(await complete("vmtools down "), ["plain/\tdirectory", "vm1/\tVM home"]);
    }
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmtools completions without a known shell is a usage error", async () => {
  const sb = new Sandbox();
  try {
    for (const args of [[], ["ksh"], ["bash", "zsh"]]) {
      const r = await sb.run("vmtools", "completions", ...args);
      equal(r.code, 2, args.join(" "));
      equal(r.stdout, "");
      match(r.stderr, /^vmtools: completions: .*\nUsage: vmtools completions bash\|zsh\|fish\n$/);
    }
  } finally {
    await sb.cleanup();
  }
});

Deno.test("vmtools's own options complete: --install-links and a directory after it, in bash and fish", async () => {
  const sb = new Sandbox();
  try {
    populate(sb);
    const bash = await sb.run("vmtools", "completions", "bash");
    equal(bash.code, 0, bash.stderr);
    const [options, dir, glued, after, sub] = await bashComplete(sb, sb.write("vmtools.bash", bash.stdout), [
      ["vmtools", "--"],
      ["vmtools", "--install-links", ""],
      ["vmtools", "--install-links", "=", "p"],
      ["vmtools", "--install-links", "plain", "--f"],
      ["vmtools", ""],
    ]);
    deepEqual(options.reply, ["--force", "--help", "--install-links"]);
    deepEqual(dir.reply, ["plain", "vm1"], "directories only");
    deepEqual(glued.reply, ["plain"]);
    deepEqual(after.reply, ["--force"]);
    ok(
      sub.reply.includes("up") && !sub.reply.includes("--install-links"),
      "commands first, options after a dash",
    );
    if (!await have("fish")) {
      console.log("fish is not installed: its completion of vmtools's own options is not checked");
      return;
    }
    const fish = await sb.run("vmtools", "completions", "fish");
    const script = sb.write("vmtools.fish", fish.stdout);
    const complete = async (line: string) => {
      const c = await shell(sb, "fish", "--no-config", "-c", `source ${script}; complete -C '${line}'`);
      equal(c.code, 0, c.stderr);
      return c.stdout.split("\n").filter(Boolean).sort();
    };
    ok(
      (await complete("vmtools --")).includes(
        "--install-links\tlink the command names in DIR to this executable",
      ),
    );
    deepEqual(await complete("vmtools --install-links "), ["plain/\tdirectory", "vm1/\tVM home"]);
    deepEqual(await complete("vmtools --install-links plain --f"), [
      "--force\treplace files and links of those names that lead elsewhere",
    ]);
  } finally {
    await sb.cleanup();
  }
});
