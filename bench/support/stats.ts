// Small statistics for benchmark samples: nearest-rank percentiles and a summary. Pure.

export interface Summary { readonly n: number; readonly min: number; readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number; readonly mean: number }

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN for none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function summarize(samples: readonly number[]): Summary {
  const mean = samples.length === 0 ? NaN : samples.reduce((a, b) => a + b, 0) / samples.length;
  return {
    n: samples.length,
    min: samples.length ? Math.min(...samples) : NaN,
    p50: percentile(samples, 50), p90: percentile(samples, 90), p99: percentile(samples, 99),
    max: samples.length ? Math.max(...samples) : NaN,
    mean,
  };
}

/** Rounds for reports: 3 significant decimals at most, so JSON and tables stay readable. */
export function round(x: number, digits = 2): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
