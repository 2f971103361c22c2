/** Percentiles by linear interpolation between closest ranks (p99 of 30 samples lies between the two largest). */
export function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export function median(values: number[]): number | undefined {
  return percentile(values, 50);
}

export function summary(values: number[]) {
  return {
    n: values.length,
    min: values.length ? Math.min(...values) : undefined,
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    max: values.length ? Math.max(...values) : undefined,
  };
}

export const round = (v: number | undefined, digits = 0) => (v === undefined || Number.isNaN(v) ? undefined : Number(v.toFixed(digits)));
