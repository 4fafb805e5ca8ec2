/**
 * Percentiles of timing samples.
 *
 * @module
 */

/** Median, tail percentiles and count of a set of samples, in the samples' unit. */
export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
}

/**
 * The nearest-rank percentile `p` (0 to 100) of samples sorted in ascending order; NaN when there are none.
 *
 * @example
 * ```ts
 * percentile([1, 2, 3, 4], 50); // 2
 * ```
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** The {@link Percentiles} of `samples` (any order; the array is not modified). */
export function percentiles(samples: readonly number[]): Percentiles {
  const sorted = samples.toSorted((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
  };
}
