/**
 * Ctrl-C during a multi-step change: undo what was done, say so, exit 1.
 * The terminal sends SIGINT to child programs too (qemu-img stops by
 * itself); vmtools then runs the undo steps registered for the change.
 * @module
 */

const undoSteps: (() => void)[] = [];
let listening = false;

function onInterrupt(): void {
  for (const undo of undoSteps.splice(0).reverse()) {
    try {
      undo();
    } catch { /* best effort: the rest must still run */ }
  }
  Deno.stderr.writeSync(
    new TextEncoder().encode(
      "\ninterrupted: what was half done has been undone\n",
    ),
  );
  Deno.exit(1);
}

/** Runs `undo` if the user interrupts before `fn` settles; `undo` must be synchronous. */
export async function undoOnInterrupt<T>(
  undo: () => void,
  fn: () => Promise<T>,
): Promise<T> {
  if (!listening) {
    Deno.addSignalListener("SIGINT", onInterrupt);
    listening = true;
  }
  undoSteps.push(undo);
  try {
    return await fn();
  } finally {
    undoSteps.splice(undoSteps.indexOf(undo), 1);
    if (!undoSteps.length) {
      Deno.removeSignalListener("SIGINT", onInterrupt);
      listening = false;
    }
  }
}
