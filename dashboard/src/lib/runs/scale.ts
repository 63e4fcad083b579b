// Scales, extents, SVG paths and colour maps for the runs page's hand-drawn charts.

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

/** An SVG path through the points; a non-finite y (or one the scale has no place for) lifts the pen. */
export function linePath(xs: ArrayLike<number>, ys: ArrayLike<number>, x: (v: number) => number, y: (v: number) => number): string {
  let path = "";
  let pen = false;
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const value = ys[i];
    const py = Number.isFinite(value) ? y(value) : Number.NaN;
    if (Number.isFinite(py)) {
      path += `${pen ? "L" : "M"}${x(xs[i]).toFixed(1)},${py.toFixed(1)}`;
      pen = true;
    } else {
      pen = false;
    }
  }
  return path;
}

// ---- colours -----------------------------------------------------------------------------------

export type Rgb = [number, number, number];

/** Viridis at 9 stops (matplotlib's), for a sequential 0..1 value such as win_rate. */
const VIRIDIS: readonly Rgb[] = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

/** A diverging ramp (RdBu reversed): blue for negative, near-white at 0, red for positive. */
const DIVERGING: readonly Rgb[] = [
  [5, 48, 97],
  [33, 102, 172],
  [67, 147, 195],
  [146, 197, 222],
  [209, 229, 240],
  [247, 247, 247],
  [253, 219, 199],
  [244, 165, 130],
  [214, 96, 77],
  [178, 24, 43],
  [103, 0, 31],
];

function ramp(stops: readonly Rgb[], t: number): Rgb {
  const clamped = Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
  const at = clamped * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(at));
  const f = at - i;
  const a = stops[i];
  const b = stops[i + 1];
  return [
    Math.round(a[0] + (b[0] - a[0]) * f),
    Math.round(a[1] + (b[1] - a[1]) * f),
    Math.round(a[2] + (b[2] - a[2]) * f),
  ];
}

/** Viridis colour of `t` in 0..1 (clamped). */
export function viridis(t: number): Rgb {
  return ramp(VIRIDIS, t);
}

/**
 * The dark-scheme diverging ramp (as the inspector views draw it): blue negative, red positive,
 * 0 is the page's near-black and size is brightness, so small values do not glare.
 */
const DIVERGING_DARK: readonly Rgb[] = [
  [185, 220, 255],
  [90, 160, 230],
  [42, 108, 176],
  [27, 63, 102],
  [22, 24, 29],
  [107, 35, 32],
  [184, 67, 58],
  [239, 127, 108],
  [255, 196, 184],
];

/** Magenta, in none of the maps: a non-finite value is never mistaken for a number. */
export const NONFINITE_RGB: Rgb = [255, 0, 255];

/** Diverging colour of `value` on a scale symmetric around 0 reaching ±`maxAbs`. */
export function diverging(value: number, maxAbs: number, dark = false): Rgb {
  if (!Number.isFinite(value)) return NONFINITE_RGB;
  const t = maxAbs > 0 ? 0.5 + value / (2 * maxAbs) : 0.5;
  return ramp(dark ? DIVERGING_DARK : DIVERGING, t);
}

export function rgb([r, g, b]: Rgb): string {
  return `rgb(${r} ${g} ${b})`;
}

/** Dark or light text, whichever reads better on `background`. */
export function textOn([r, g, b]: Rgb): string {
  const luminance = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
  return luminance > 0.55 ? "#16191f" : "#f6f7f9";
}

/** A CSS linear-gradient of the viridis ramp, left to right, for legends. */
export function viridisGradient(): string {
  return `linear-gradient(to right, ${VIRIDIS.map((c, i) => `${rgb(c)} ${((i / (VIRIDIS.length - 1)) * 100).toFixed(0)}%`).join(", ")})`;
}

/** A CSS linear-gradient of the diverging ramp, for legends. */
export function divergingGradient(dark = false): string {
  const stops = dark ? DIVERGING_DARK : DIVERGING;
  return `linear-gradient(to right, ${stops.map((c, i) => `${rgb(c)} ${((i / (stops.length - 1)) * 100).toFixed(0)}%`).join(", ")})`;
}

/**
 * Distinct line colours (Tableau 10), readable on light and dark backgrounds; feature lines take
 * them in order of their position in the watch list.
 */
export const LINE_COLORS: readonly string[] = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#59a14f",
  "#b07aa1",
  "#76b7b2",
  "#edc948",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
];

/** Maximum of |v| over the finite values (0 when there are none). */
export function maxAbs(values: Iterable<number>): number {
  let max = 0;
  for (const v of values) {
    if (Number.isFinite(v) && Math.abs(v) > max) max = Math.abs(v);
  }
  return max;
}
