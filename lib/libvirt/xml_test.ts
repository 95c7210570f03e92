import { equal, throws } from "node:assert/strict";
import { el, escapeXml, renderXml } from "./xml.ts";

Deno.test("escapeXml escapes markup, quotes and the characters attributes would lose", () => {
  equal(escapeXml(`a&b<c>d'e"f`), "a&amp;b&lt;c&gt;d&apos;e&quot;f");
  equal(escapeXml("tab\there\nline\r"), "tab&#9;here&#10;line&#13;");
  equal(escapeXml("fóò $$ `x`"), "fóò $$ `x`");
});

Deno.test("escapeXml refuses what XML 1.0 cannot hold", () => {
  throws(() => escapeXml("a\x01b"), /U\+0001 cannot be written in XML/);
  throws(() => escapeXml("\0"), /U\+0000/);
});

Deno.test("renderXml indents, leaves out absent attributes and children, closes empty elements", () => {
  equal(
    renderXml(el("a", { x: "1", y: undefined, z: 2 }, [el("b", {}, "t<"), undefined, false, el("c")])),
    "<a x='1' z='2'>\n  <b>t&lt;</b>\n  <c/>\n</a>\n",
  );
});
