/**
 * The QEMU command line under construction, as handed to buildcmd modules.
 * @module
 */
import type { QemuCommand } from "../modules/api.ts";

/** A mutable QEMU program name and argument list. */
export class QemuCommandLine implements QemuCommand {
  binary = "";
  readonly args: string[] = [];

  add(...args: string[]): void {
    // One by one: push(...args) puts every element on the stack, and a
    // settings list may have hundreds of thousands.
    for (const a of args) this.args.push(a);
  }

  has(option: string): boolean {
    return this.args.includes(option);
  }

  valueOf(option: string): string | undefined {
    const i = this.args.indexOf(option);
    return i >= 0 ? this.args[i + 1] : undefined;
  }

  remove(option: string, withValue = true): void {
    for (
      let i = this.args.indexOf(option);
      i >= 0;
      i = this.args.indexOf(option)
    ) {
      this.args.splice(i, withValue ? 2 : 1);
    }
  }
}
