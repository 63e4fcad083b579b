// What the runs page's line charts do to a series before drawing it: exponential smoothing (the
// loss chart's slider) and the y range of a log axis, which only positive values have.

/** The smoothing slider's range: 0 is the raw series, 0.99 averages over about 100 steps. */
export const MAX_SMOOTHING = 0.99;

/**
 * The series smoothed by an exponential moving average with `weight` (0..MAX_SMOOTHING; 0 gives
 * the values back): s_i = w·s_(i−1) + (1 − w)·v_i, debiased so the start is not pulled towards 0
 * (divided by 1 − w^n after n finite values, as TensorBoard does). A non-finite value stays
 * non-finite in the output (a gap where the raw line has one) and does not enter the average.
 */
export function emaSmooth(values: ArrayLike<number>, length: number, weight: number): Float64Array {
  const n = Math.min(length, values.length);
  const out = new Float64Array(n);
  const w = Number.isFinite(weight) ? Math.min(MAX_SMOOTHING, Math.max(0, weight)) : 0;
  let sum = 0;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!(v - v === 0)) {
      out[i] = v;
      continue;
    }
    sum = w * sum + (1 - w) * v;
    norm = w * norm + (1 - w);
    out[i] = w === 0 ? v : sum / norm;
  }
  return out;
}

/** [min, max] of the positive finite values among indices [start, end) (null when there are none). */
export function positiveExtent(values: ArrayLike<number>, start = 0, end = values.length): [number, number] | null {
  let min = Infinity;
  let max = -Infinity;
  for (let i = Math.max(0, start); i < Math.min(end, values.length); i++) {
    const v = values[i];
    if (v > 0 && v < Infinity) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return min === Infinity ? null : [min, max];
}

/** A log axis's range around positive [min, max]: `fraction` of its decades more on each side (a flat one: ×/÷ 1.5). */
export function padLogDomain([min, max]: [number, number], fraction = 0.06): [number, number] {
  if (!(max > min)) return [min / 1.5, max * 1.5];
  const pad = (Math.log10(max) - Math.log10(min)) * fraction;
  return [min / 10 ** pad, max * 10 ** pad];
}
