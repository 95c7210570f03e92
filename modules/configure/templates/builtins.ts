/** The built-in configure/templates modules, by name. */
export { default as autodetect } from "./autodetect.ts";
export { default as prompt } from "./prompt.ts";
