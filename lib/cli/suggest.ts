/**
 * "Did you mean …?": the known name nearest to a mistyped one.
 * @module
 */

/**
 * The name among `known` closest to `given` (typing distance: a letter
 * added, dropped, changed, or two neighbours swapped), when it is close
 * enough to be a slip: one edit for short names, two from six letters on.
 */
export function nearest(given: string, known: readonly string[]): string | undefined {
  const limit = given.length >= 6 ? 2 : 1;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const name of known) {
    const d = distance(given.toLowerCase(), name.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best;
}

/** Edit distance counting a swap of two adjacent letters as one edit. */
export function distance(a: string, b: string): number {
  // Three rows of the table are enough: the swap looks two rows back.
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, before[j - 2] + 1);
      }
      row.push(d);
    }
    [before, prev] = [prev, row];
  }
  return prev[b.length];
}
