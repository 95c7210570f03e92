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

  machine(): string {
    let type = "";
    for (let i = 0; i < this.args.length - 1; i++) {
      if (this.args[i] !== "-machine" && this.args[i] !== "-M") continue;
      // QEMU merges every -machine option; a later type wins.
      for (const [n, part] of this.args[i + 1].split(",").entries()) {
        if (part.startsWith("type=")) type = part.slice(5);
        else if (n === 0 && part && !part.includes("=")) type = part;
      }
    }
    return type;
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
