// Scales, extents and SVG paths for the runs page's hand-drawn charts (their colours: views/colour.ts).

/** A linear map from `domain` to `range`, with its inverse. */
export interface LinearScale {
  (value: number): number;
  invert(px: number): number;
  domain: [number, number];
  range: [number, number];
}

export function linearScale(domain: [number, number], range: [number, number]): LinearScale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0 || 1;
  const scale = ((value: number) => r0 + ((value - d0) / span) * (r1 - r0)) as LinearScale;
  scale.invert = (px: number) => d0 + ((px - r0) / (r1 - r0 || 1)) * span;
  scale.domain = [d0, d1];
  scale.range = [r0, r1];
  return scale;
}

/**
 * A log10 map from `domain` (both > 0) to `range`. Values at or below the domain's start (zeros
 * included) land on its start, so no point falls off a scatter; with `gaps`, values ≤ 0 map to NaN
 * instead (a line lifts its pen there: a log axis has no place for them).
 */
export function logScale(domain: [number, number], range: [number, number], options: { gaps?: boolean } = {}): LinearScale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const l0 = Math.log10(d0);
  const span = Math.log10(d1) - l0 || 1;
  const gaps = options.gaps ?? false;
  const scale = ((value: number) =>
    gaps && !(value > 0) ? Number.NaN : r0 + ((Math.log10(Math.max(value, d0)) - l0) / span) * (r1 - r0)) as LinearScale;
  scale.invert = (px: number) => 10 ** (l0 + ((px - r0) / (r1 - r0 || 1)) * span);
  scale.domain = [d0, d1];
  scale.range = [r0, r1];
  return scale;
}

/** The smallest finite value above 0 (null when there is none). */
export function minPositive(values: Iterable<number>): number | null {
  let min = Infinity;
  for (const v of values) if (Number.isFinite(v) && v > 0 && v < min) min = v;
  return min === Infinity ? null : min;
}

/** [min, max] of the finite values among the first `length` (null when there are none). */
export function extent(values: ArrayLike<number | null>, length = values.length): [number, number] | null {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < Math.min(length, values.length); i++) {
    const v = values[i];
    if (typeof v === "number" && Number.isFinite(v)) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return min === Infinity ? null : [min, max];
}

/** Joins extents, ignoring missing ones. */
export function unionExtent(extents: readonly ([number, number] | null)[]): [number, number] | null {
  let out: [number, number] | null = null;
  for (const e of extents) {
    if (!e) continue;
    out = out ? [Math.min(out[0], e[0]), Math.max(out[1], e[1])] : [e[0], e[1]];
  }
  return out;
}

/**
 * Room around [min, max] so lines do not touch the frame: `fraction` of the span on each side, or
 * a small band around a flat series. `floor` (e.g. 0 for magnitudes) is never crossed by padding.
 */
export function padDomain([min, max]: [number, number], fraction = 0.08, floor?: number): [number, number] {
  const pad = max > min ? (max - min) * fraction : Math.max(Math.abs(max) * 0.05, 1e-3);
  let lo = min - pad;
  const hi = max + pad;
  if (floor !== undefined && min >= floor && lo < floor) lo = floor;
  return [lo, hi];
}


/** Maximum of |v| over the finite values (0 when there are none). */
export function maxAbs(values: Iterable<number>): number {
  let max = 0;
  for (const v of values) {
    if (Number.isFinite(v) && Math.abs(v) > max) max = Math.abs(v);
  }
  return max;
}
