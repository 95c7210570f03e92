import { equal } from "node:assert/strict";
import { visibleText } from "./visible.ts";

Deno.test("visibleText: colours, cursor moves, titles, two-character escapes and control characters go; tabs stay", () => {
  equal(visibleText("\x1b[1;33mBLK0:\x1b[0m \x1b[09;01Hok\x1b]0;title\x07"), "BLK0: ok");
  equal(visibleText("a\tb\x00c\x1bMd\x07"), "a\tbcd");
});
