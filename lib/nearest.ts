/**
 * "Did you mean …?": the known name nearest to a mistyped one, for options
 * and setting names alike.
 * @module
 */

/**
 * The name among `known` closest to `given`, ignoring case (typing
 * distance: a character added, dropped or changed, or two neighbours
 * swapped), when it is close enough to be a slip: one edit per four
 * characters, at least one and at most three. A tie goes to the first.
 */
export function nearest(given: string, known: Iterable<string>): string | undefined {
  const limit = Math.max(1, Math.min(3, Math.floor(given.length / 4)));
  const g = given.toLowerCase();
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const name of known) {
    if (Math.abs(name.length - given.length) >= bestDistance) continue;
    const d = distance(g, name.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best;
}

/** Edit distance counting a swap of two adjacent characters as one edit. */
export function distance(a: string, b: string): number {
  // Three rows of the table are enough: the swap looks two rows back.
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, before[j - 2] + 1);
      }
      row.push(d);
    }
    [before, prev] = [prev, row];
  }
  return prev[b.length];
}
