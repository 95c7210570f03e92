/**
 * Writing XML: escaping and an indented element builder, enough for a
 * libvirt domain. Written here rather than taken from an npm package: only
 * writing is needed, and its whole difficulty is five characters to escape.
 * @module
 */
import { VmError } from "../errors.ts";

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  "'": "&apos;",
  '"': "&quot;",
};

/**
 * Escapes text for element content or a quoted attribute value. Characters
 * XML 1.0 cannot hold at all (control characters other than tab, line feed
 * and carriage return) are refused rather than dropped.
 */
export function escapeXml(text: string): string {
  // deno-lint-ignore no-control-regex
  const bad = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/.exec(text);
  if (bad) {
    throw new VmError(
      `${JSON.stringify(text)}: U+${
        bad[0].charCodeAt(0).toString(16).padStart(4, "0")
      } cannot be written in XML`,
    );
  }
  // Line breaks and tabs in attribute values would be normalised to spaces by a reader: keep them as references.
  return text.replace(/[&<>'"]/g, (c) => ESCAPES[c]).replace(/[\t\n\r]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Attributes in the order given; `undefined` leaves one out. */
export type Attributes = Record<string, string | number | undefined>;

/** An element with attributes and either text or child elements. */
export interface XmlNode {
  /** The tag name, with its namespace prefix if any (`qemu:commandline`). */
  name: string;
  /** Its attributes, in the order written; plain text, escaped when written. */
  attrs?: Attributes;
  /** Its text, plain (escaped when written); when present, `children` are not written. */
  text?: string;
  /** Its child elements; `undefined` and `false` ones are left out. */
  children?: (XmlNode | undefined | false)[];
}

/** Shorthand for an element; `undefined` and `false` children are left out (for optional parts). */
export function el(
  name: string,
  attrs: Attributes = {},
  content: string | (XmlNode | undefined | false)[] = [],
): XmlNode {
  return typeof content === "string" ? { name, attrs, text: content } : { name, attrs, children: content };
}

/** Writes `node` and its children, two spaces per level, one element per line. */
export function renderXml(node: XmlNode, depth = 0): string {
  const pad = "  ".repeat(depth);
  const attrs = Object.entries(node.attrs ?? {})
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}='${escapeXml(String(v))}'`)
    .join("");
  const children = (node.children ?? []).filter((c): c is XmlNode => Boolean(c));
  if (node.text !== undefined) return `${pad}<${node.name}${attrs}>${escapeXml(node.text)}</${node.name}>\n`;
  if (!children.length) return `${pad}<${node.name}${attrs}/>\n`;
  return `${pad}<${node.name}${attrs}>\n${
    children.map((c) => renderXml(c, depth + 1)).join("")
  }${pad}</${node.name}>\n`;
}
