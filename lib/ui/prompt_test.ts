import { deepEqual, equal, rejects } from "node:assert/strict";
import { VmError } from "../errors.ts";
import type { Output } from "./log.ts";
import { type Choice, PromptAborted, Prompter } from "./prompt.ts";

/** A prompter reading `text` as piped stdin; `shown` collects what it writes on stderr. */
function piped(text: string, opts: { assumeYes?: boolean; inIsTerminal?: boolean } = {}) {
  const shown: string[] = [];
  const output: Output = {
    out() {},
    err: (t) => void shown.push(t),
    errIsTerminal: false,
    inIsTerminal: opts.inIsTerminal ?? false,
  };
  let data = new TextEncoder().encode(text);
  const input = {
    read(p: Uint8Array): Promise<number | null> {
      if (!data.length) return Promise.resolve(null);
      // A few bytes at a time: answers must not depend on how reads split.
      const n = Math.min(p.length, data.length, 3);
      p.set(data.subarray(0, n));
      data = data.subarray(n);
      return Promise.resolve(n);
    },
  };
  return { prompter: new Prompter(output, opts.assumeYes ?? false, input), shown };
}

const LAYOUTS: Choice[] = [
  { value: "", label: "(none)" },
  { value: "de", label: "de  German" },
  { value: "fr" },
];

Deno.test("piped answers of every kind are read line by line; empty lines and the end take the proposal", async () => {
  const { prompter: p, shown } = piped("hello\n\n7\nN\nfr\n2\nfr de\n");
  equal(await p.ask("Name", "x"), "hello");
  equal(await p.ask("Again", "proposed"), "proposed");
  equal(await p.number("CPUs", 2, { min: 1 }), 7);
  equal(await p.confirm("Network", true), false);
  equal(await p.choose("Layout", LAYOUTS, ""), "fr");
  equal(await p.choose("Layout", LAYOUTS, ""), "de", "a number picks from the list, from 1");
  deepEqual(await p.chooseSeveral("Maps", LAYOUTS, []), ["de", "fr"], "in list order");
  // End of piped input: every further question takes its proposal.
  equal(await p.confirm("More", true), true);
  equal(await p.number("Count", 3), 3);
  deepEqual(await p.chooseSeveral("Several", LAYOUTS, ["fr"]), ["fr"]);
  equal(await p.choose("Layout", LAYOUTS, ""), "");
  equal(
    shown.join(""),
    "Name [x]: Again [proposed]: CPUs [2]: Network (yes/no) [yes]: Layout [(none)]: Layout [(none)]: " +
      "Maps [none]: More (yes/no) [yes]: \nCount [3]: \nSeveral [fr]: \nLayout [(none)]: \n",
  );
});

Deno.test("'-' chooses none of several; numbers and values mix", async () => {
  const { prompter: p } = piped("-\n3, 2\n");
  deepEqual(await p.chooseSeveral("Maps", LAYOUTS, ["de"]), []);
  deepEqual(await p.chooseSeveral("Maps", LAYOUTS, []), ["de", "fr"]);
});

Deno.test("a wrong piped answer is an error naming the question and what is expected", async () => {
  const cases: [string, (p: Prompter) => Promise<unknown>, string][] = [
    ["many\n", (p) => p.number("Number of virtual CPUs", 2, { min: 1 }), "a whole number of at least 1"],
    ["0\n", (p) => p.number("Number of virtual CPUs", 2, { min: 1 }), "a whole number of at least 1"],
    ["1e3\n", (p) => p.number("Count", 2, { min: 1, max: 8 }), "a whole number from 1 to 8"],
    ["perhaps\n", (p) => p.confirm("Network", true), "yes or no"],
    ["xx\n", (p) => p.choose("Layout", LAYOUTS, ""), "one of 1 for (none), de, fr (or its number, 1 to 3)"],
    ["4\n", (p) => p.choose("Layout", LAYOUTS, ""), "one of 1 for (none), de, fr (or its number, 1 to 3)"],
    ["de xx\n", (p) => p.chooseSeveral("Maps", LAYOUTS, []), "several separated by blanks, or - for none"],
    ["abc\n", (p) => p.ask("Code", "x", (a) => /^\d+$/.test(a) ? undefined : "digits"), "digits"],
  ];
  for (const [input, ask, expected] of cases) {
    const { prompter } = piped(input);
    await rejects(ask(prompter), (e: Error) => {
      equal(e instanceof VmError, true);
      equal(e.message.startsWith(`answer '${input.trim()}' to '`), true, e.message);
      equal(e.message.includes(expected), true, `${e.message} should say ${expected}`);
      return true;
    });
  }
});

Deno.test("-y takes every proposal without reading or writing anything", async () => {
  const { prompter: p, shown } = piped("ignored\n", { assumeYes: true });
  equal(await p.ask("Name", "x", () => "never checked"), "x");
  equal(await p.confirm("Network", false), false);
  equal(await p.number("CPUs", 4), 4);
  equal(await p.choose("Layout", LAYOUTS, "de"), "de");
  deepEqual(await p.chooseSeveral("Maps", LAYOUTS, ["fr"]), ["fr"]);
  deepEqual(shown, []);
});

Deno.test("the end of input typed at a terminal (Ctrl-D) aborts; a wrong typed answer is asked again", async () => {
  const { prompter: p, shown } = piped("zero\n5\n", { inIsTerminal: true });
  equal(await p.number("CPUs", 2, { min: 1 }), 5);
  equal(shown.join(""), "CPUs [2]: expected a whole number of at least 1\nCPUs [2]: ");
  await rejects(p.confirm("Network", true), (e: Error) => {
    equal(e instanceof PromptAborted, true);
    equal(e.message, "aborted at 'Network' (end of input)");
    return true;
  });
});
