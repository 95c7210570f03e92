/**
 * Checking libvirt domain XML with libvirt's own tools: the schema
 * (`virt-xml-validate`, Debian libxml2-utils + libvirt-clients) and the
 * parser of libvirt's built-in test driver (`virsh -c test:///default
 * define`, no daemon needed). And the real daemon for the tests that boot a
 * guest under libvirt (`scripts/libvirt-daemon`).
 * @module
 */
import { PROJECT_ROOT } from "./vmtools.ts";

/** What a program run produced. */
interface Output {
  code: number;
  out: string;
}

async function run(program: string, args: string[], stdin?: string): Promise<Output> {
  const child = new Deno.Command(program, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: { LC_ALL: "C" },
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const o = await child.output();
  const dec = new TextDecoder();
  return { code: o.code, out: dec.decode(o.stdout) + dec.decode(o.stderr) };
}

/**
 * Throws unless `xml` is a domain libvirt's schema validates and its test
 * driver defines. The test driver lives in the virsh process, so each call
 * starts from an empty one.
 */
export async function assertValidDomain(xml: string): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vmtools-xml-" });
  try {
    const file = `${dir}/domain.xml`;
    await Deno.writeTextFile(file, xml);
    const schema = await run("virt-xml-validate", [file, "domain"]);
    if (schema.code !== 0) throw new Error(`virt-xml-validate refuses the XML:\n${schema.out}\n${xml}`);
    const define = await run("virsh", ["-q", "-c", "test:///default", "define", file]);
    if (define.code !== 0) {
      throw new Error(`virsh -c test:///default define refuses the XML:\n${define.out}\n${xml}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The system URI the daemon tests use. */
export const SYSTEM_URI = "qemu:///system";

/**
 * Makes sure libvirt's system daemon runs (`scripts/libvirt-daemon`);
 * returns why it cannot, or `undefined` when it answers.
 */
export async function libvirtDaemonUnavailable(): Promise<string | undefined> {
  if (Deno.uid() !== 0) return "the tests do not run as root, which the system daemon needs";
  const r = await run("bash", [`${PROJECT_ROOT}/scripts/libvirt-daemon`]);
  return r.code === 0 ? undefined : r.out.trim().split("\n").at(-1) || "scripts/libvirt-daemon failed";
}

/** Runs `virsh -c SYSTEM_URI args…`. */
export function virsh(...args: string[]): Promise<Output> {
  return run("virsh", ["-q", "-c", SYSTEM_URI, ...args]);
}
