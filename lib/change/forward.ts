/**
 * Finishing changes killed past their point of no return (see
 * `Change.forward`): each kind names the function that completes it from
 * the plan it wrote in its journal. They are loaded only when one is found.
 * @module
 */
import type { Logger } from "../ui/log.ts";

/** Completes a change from its plan; every step must be safe to run again. */
export type Finisher = (plan: unknown, log: Logger) => Promise<void>;

const FINISHERS: Record<string, () => Promise<Finisher>> = {
  merge: async () => (await import("../tree/merge.ts")).finishMerge,
};

/** The finisher of `kind`, or `undefined` for a kind this version does not know. */
export async function finisherOf(kind: string): Promise<Finisher | undefined> {
  const load = FINISHERS[kind];
  return load ? await load() : undefined;
}
