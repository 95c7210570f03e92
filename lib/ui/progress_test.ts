import { equal, match, ok } from "node:assert/strict";
import { Logger, type Output } from "./log.ts";
import { formatLine, Progress } from "./progress.ts";

/** A logger whose stderr is captured, a terminal or not. */
function capture(terminal: boolean, verbosity = 2) {
  const written: string[] = [];
  const output: Output = {
    out() {},
    err: (t) => void written.push(t),
    errIsTerminal: terminal,
    inIsTerminal: false,
  };
  return { log: new Logger("test", verbosity, output), text: () => written.join("") };
}

Deno.test("a progress line: bar, percentage, rate and time left once there is history", () => {
  equal(formatLine("copying x", 0, 0, 1e9), "copying x [........................]   0%");
  equal(formatLine("copying x", 0.5, 100, 1e9), "copying x [############............]  50%");
  equal(
    formatLine("copying x", 0.5, 2000, 1e9),
    "copying x [############............]  50%  250 MB/s  0:02 left",
  );
  equal(formatLine("merging x", 0.25, 3000), "merging x [######..................]  25%  0:09 left");
  // The finished line keeps the average rate, however fast it went.
  equal(formatLine("copying x", 1, 200, 1e8), "copying x [########################] 100%  500 MB/s");
  equal(
    formatLine("copying x", 0.5, 4e6, 1e9),
    "copying x [############............]  50%  125 KB/s  1:06:40 left",
  );
});

Deno.test("colour only paints the done part of the bar", () => {
  equal(formatLine("x", 0.5, 0, undefined, true), "x [\x1b[32m############\x1b[0m............]  50%");
  equal(formatLine("x", 0, 0, undefined, true), "x [........................]   0%");
});

Deno.test("drawn in place on a terminal, ended by done; nothing piped or under -q", () => {
  const tty = capture(true);
  const p = new Progress(tty.log, "copying x", 1000, { color: false, escapes: true });
  p.advance(250);
  p.advance(250); // within the redraw interval: not drawn
  p.done();
  ok(
    tty.text().startsWith("\rcopying x [######..................]  25%\x1b[K\r"),
    JSON.stringify(tty.text()),
  );
  equal(tty.text().split("\r").length, 3, "drawn twice");
  // deno-lint-ignore no-control-regex
  match(tty.text(), /\rcopying x \[#{24}\] 100%( {2}[\d.]+ [KMG]?B\/s)?\x1b\[K\n$/);

  for (const quiet of [capture(false), capture(true, 1)]) {
    const q = new Progress(quiet.log, "copying x", 1000);
    equal(q.visible, false);
    q.update(0.5);
    q.done();
    equal(quiet.text(), "");
  }
});

Deno.test("a dumb terminal gets no escape sequence, not even colour", () => {
  const tty = capture(true);
  const p = new Progress(tty.log, "x", undefined, { color: true, escapes: false });
  p.update(0.5);
  p.done(false);
  ok(!tty.text().includes("\x1b"), JSON.stringify(tty.text()));
  match(tty.text(), /^\rx \[#{12}\.{12}\] {2}50%\rx \[#{12}\.{12}\] {2}50%.*\n$/);
});
