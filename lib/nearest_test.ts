import { equal } from "node:assert/strict";
import { distance, nearest } from "./nearest.ts";

Deno.test("distance counts additions, removals, changes and swaps as one edit each", () => {
  equal(distance("json", "json"), 0);
  equal(distance("jsn", "json"), 1);
  equal(distance("jsoon", "json"), 1);
  equal(distance("jsom", "json"), 1);
  equal(distance("jsno", "json"), 1);
  equal(distance("", "abc"), 3);
  equal(distance("vm_ram_sise", "vm_ram_size"), 1);
});

Deno.test("nearest suggests only a slip, and the closest one", () => {
  equal(nearest("jsn", ["help", "json"]), "json");
  equal(nearest("JSON", ["json"]), "json");
  equal(nearest("xyz", ["help", "json"]), undefined);
  equal(nearest("verbose", ["help", "json"]), undefined);
  equal(nearest("hepl", ["help", "hello"]), "help");
  equal(nearest("formt", ["format", "form"]), "format"); // a tie: the first one
  equal(nearest("ascii", ["asci", "ascii2"]), "asci");
  equal(nearest("colour", ["color"]), "color");
  equal(nearest("zzlorz", ["color"]), undefined);
});
