/**
 * "Did you mean …?" for a misspelt config key or flag: the nearest known name by edit distance (optimal string
 * alignment, so a swap of two neighbours counts as one edit), when it is near enough to be a likely typo; a name
 * the word begins (`--debug` for `--debug-logs`) counts as one edit.
 *
 * @module
 */

/**
 * The candidate nearest to `word`, or undefined when none is within a third of the word's length (at least one
 * edit), or that the word is the start of. Case is ignored; ties go to the earlier candidate.
 *
 * @example
 * ```ts
 * nearest("upstream", ["listen", "upstreams"]); // "upstreams"
 * nearest("prot", ["host", "port"]); // "port"
 * ```
 */
export function nearest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(1, Math.ceil(word.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  const typed = word.toLowerCase();
  for (const candidate of candidates) {
    const known = candidate.toLowerCase();
    const distance = known.startsWith(typed) ? 1 : editDistance(typed, known);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** ` (did you mean "x"?)` for the nearest candidate, or "". */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const match = nearest(word, candidates);
  return match === undefined ? "" : ` (did you mean "${match}"?)`;
}

/** Insertions, deletions, substitutions and swaps of neighbours that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d = Array.from(
    { length: rows },
    (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}
