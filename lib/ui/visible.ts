/**
 * Text as a terminal shows it, without the escape sequences and control
 * characters that colour it or move the cursor.
 * @module
 */

/** Terminal escape sequences: CSI (colours, cursor moves), OSC (titles), and the two-character ones. */
// deno-lint-ignore no-control-regex
const ESCAPES = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])/g;
/** Control characters other than tab (what is left of an escape sequence cut short, bells, NULs). */
// deno-lint-ignore no-control-regex
const CONTROLS = /[\x00-\x08\x0a-\x1f\x7f]/g;

/**
 * `text` as a terminal shows it: escape sequences and control characters
 * removed. Guest output matched by `--wait` (firmware like OVMF colours
 * and positions its text) and the width of a progress line are about what
 * a human reads.
 */
export function visibleText(text: string): string {
  return text.replace(ESCAPES, "").replace(CONTROLS, "");
}
