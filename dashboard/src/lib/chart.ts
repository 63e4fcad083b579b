// Small helpers for the hand-drawn SVG charts: the nearest-point search of their hover (their
// axis ticks are in ticks.ts).

/** Index of the value in increasing `values` (the first `length` of them) nearest to `target`; -1 when empty. */
export function nearestIndex(values: ArrayLike<number>, target: number, length = values.length): number {
  const n = Math.min(length, values.length);
  if (n === 0) return -1;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (values[mid] <= target) lo = mid;
    else hi = mid;
  }
  return Math.abs(values[hi] - target) < Math.abs(values[lo] - target) ? hi : lo;
}

/** One line's point nearest to the pointer's step. */
export interface NearestPoint<L> {
  line: L;
  step: number;
  value: number;
}

/**
 * Each line's point nearest to `step` (`indexOf` finds it; lines without one are left out), and the
 * step of the one nearest of them all; null when no line has a point.
 */
export function nearestPoints<L extends { xs: ArrayLike<number>; ys: ArrayLike<number> }>(
  lines: readonly L[],
  step: number,
  indexOf: (line: L, step: number) => number,
): { step: number; rows: NearestPoint<L>[] } | null {
  const rows = lines
    .map((line) => {
      const i = indexOf(line, step);
      return i < 0 ? null : { line, step: line.xs[i], value: line.ys[i] };
    })
    .filter((row): row is NearestPoint<L> => row !== null);
  if (!rows.length) return null;
  const nearest = rows.reduce((a, b) => (Math.abs(b.step - step) < Math.abs(a.step - step) ? b : a));
  return { step: nearest.step, rows };
}
