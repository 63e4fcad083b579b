// Axis ticks for every hand-drawn chart: where the ticks go (round values on a linear axis,
// 1-2-5 × powers of ten on a log axis) and how they read. One home, so each chart's axis reads the
// same way and none of them prints the same label twice.
//
// Labels are as short as the ticks allow and never repeat: each keeps the digits that tell it from
// its neighbours ("0.20 0.25 0.30", "1.5e−4 2e−4"), a range far from zero and narrow next to its
// magnitude reads as an offset from its roundest tick ("1−1e−5 1 1+1e−5"), and when even that is
// too long the labels are the offsets alone and the axis shows the value they are added to.

/** U+2212, the typographic minus the dashboard prints numbers with. */
export const MINUS = "\u2212";

/** Labels longer than this switch to a shorter form. */
export const MAX_LABEL_CHARS = 10;

/** How labels read: `scale` multiplies the values first and `suffix` follows each label (percentages: 100 and "%"). */
export interface TickFormat {
  scale?: number;
  suffix?: string;
}

/** Percentages of fractions: 0.25 reads "25%". */
export const PERCENT: TickFormat = { scale: 100, suffix: "%" };

/** The ticks of an axis, their labels, and the value the labels are offsets from (null: none). */
export interface Axis {
  ticks: number[];
  labels: string[];
  /** Printed once beside the axis when the labels are offsets from it ("each tick = offset + label"). */
  offset: string | null;
}

/** The "nice" spacing (1, 2 or 5 times a power of ten) that cuts `span` into about `count` parts. */
function niceStep(span: number, count: number): { unit: number; power: number } {
  const raw = span / Math.max(1, count);
  const power = Math.floor(Math.log10(raw));
  const unit = raw / 10 ** power;
  return { unit: unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10, power };
}

/**
 * About `count` round tick values covering [min, max] (1, 2 or 5 times a power of ten apart), each
 * the exact decimal it stands for (0.3, not 0.30000000000000004). A range too narrow for the
 * precision of its numbers has one tick, its middle.
 */
export function niceTicks(min: number, max: number, count: number): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min > max) [min, max] = [max, min];
  if (min === max) return [min];
  const span = max - min;
  if (span <= Math.max(Math.abs(min), Math.abs(max)) * 1e-13) return [(min + max) / 2];
  const { unit, power } = niceStep(span, count);
  // Tick k is k·unit·10^power; dividing an exact integer by an exact power of ten rounds once.
  const value = (k: number) => (power < 0 ? (k * unit) / 10 ** -power : k * unit * 10 ** power);
  const step = unit * 10 ** power;
  const first = Math.ceil(min / step - 1e-9);
  const ticks: number[] = [];
  for (let k = first; ticks.length <= count * 10 + 2; k++) {
    const v = value(k);
    if (v > max + step * 1e-9) break;
    if (ticks.length === 0 || v !== ticks[ticks.length - 1]) ticks.push(v === 0 ? 0 : v);
  }
  return ticks;
}

/**
 * Ticks of a log axis over positive [lo, hi]: 1-2-5 × powers of ten when at most `maxCount` of them
 * fit, else the powers of ten (every second, third... when even those are too many). A short range
 * with fewer than four of those gets every 1..9 × power of ten when they fit, and one with fewer
 * than two the "nice" linear ticks. Empty for a range that is not positive.
 */
export function logTicks(lo: number, hi: number, maxCount = 8): number[] {
  if (!(lo > 0) || !(hi >= lo) || !Number.isFinite(hi)) return [];
  if (hi === lo) return [lo];
  const inside = (v: number) => v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9);
  const a = Math.floor(Math.log10(lo));
  const b = Math.ceil(Math.log10(hi));
  const at = (e: number, m: number) => Number((m * 10 ** e).toPrecision(12));
  const every: number[] = [];
  const dense: number[] = [];
  const powers: number[] = [];
  for (let e = a; e <= b; e++) {
    for (let m = 1; m <= 9; m++) {
      const v = at(e, m);
      if (!inside(v)) continue;
      every.push(v);
      if (m === 1 || m === 2 || m === 5) dense.push(v);
      if (m === 1) powers.push(v);
    }
  }
  // A short range: every 1..9 × power of ten when they fit, else its linear ticks.
  if (dense.length < 4 && every.length > dense.length && every.length <= maxCount) return every;
  if (dense.length < 2) {
    const linear = niceTicks(lo, hi, 4).filter((t) => t > 0 && inside(t));
    if (linear.length > dense.length) return linear;
  }
  if (dense.length <= maxCount) return dense;
  if (powers.length <= maxCount) return powers;
  const stride = Math.ceil(powers.length / Math.max(1, maxCount));
  return powers.filter((_, i) => i % stride === 0);
}

// ---- labels ------------------------------------------------------------------------------------

/** Fewest decimals (0..20) that write `v` within `tol`. */
function decimalsFor(v: number, tol: number): number {
  for (let d = 0; d < 20; d++) if (Math.abs(Number(v.toFixed(d)) - v) <= tol) return d;
  return 20;
}

/** Fewest mantissa digits (0..16) that write `v` in exponent form within `tol`. */
function mantissaFor(v: number, tol: number): number {
  for (let m = 0; m < 16; m++) if (Math.abs(Number(v.toExponential(m)) - v) <= tol) return m;
  return 16;
}

function fixed(v: number, d: number): string {
  const text = Math.abs(v).toFixed(d);
  if (Number(text) === 0) return "0";
  return (v < 0 ? MINUS : "") + text;
}

function exponent(v: number, m: number): string {
  if (v === 0) return "0";
  const [mantissa, power] = Math.abs(v).toExponential(m).split("e");
  const short = mantissa.includes(".") ? mantissa.replace(/\.?0+$/, "") : mantissa;
  const p = Number(power);
  return `${v < 0 ? MINUS : ""}${short}e${p < 0 ? MINUS : ""}${Math.abs(p)}`;
}

/** Whether `v` reads better in exponent form (very small or very large). */
function wantsExponent(abs: number): boolean {
  return abs !== 0 && (abs < 1e-3 || abs >= 1e5);
}

/** `v` on its own, as short as writes it within `tol`: "0.25", "1e−4", "1.5e5". */
function compact(v: number, tol: number): string {
  if (v === 0) return "0";
  return wantsExponent(Math.abs(v)) ? exponent(v, mantissaFor(v, tol)) : fixed(v, decimalsFor(v, tol));
}

/** How round `v` is: the largest power of ten it is a multiple of (within `tol`), as an exponent. */
function roundness(v: number, tol: number): number {
  if (v === 0) return Infinity;
  for (let e = Math.floor(Math.log10(Math.abs(v))); e > -330; e--) {
    const unit = 10 ** e;
    if (Math.abs(Math.round(v / unit) * unit - v) <= tol) return e;
  }
  return -Infinity;
}

function sorted(ticks: readonly number[]): number[] {
  return [...ticks].sort((a, b) => a - b);
}

function distinct(labels: readonly string[]): boolean {
  return new Set(labels).size === labels.length;
}

function fits(labels: readonly string[]): boolean {
  return labels.every((l) => l.length <= MAX_LABEL_CHARS);
}

/**
 * Labels of `ticks` (any order; the labels follow it). Evenly spaced ticks share their notation
 * and decimals ("0.0 0.5 1.0"); others (a log axis) are each as short as they can be ("1e−4 0.01
 * 1"). Each label names its tick exactly enough that no two repeat; see the file comment for
 * narrow ranges far from zero. `scale` multiplies the values first and `suffix` follows each label
 * (percentages: scale 100, suffix "%").
 */
export function tickLabels(ticks: readonly number[], options: TickFormat = {}): { labels: string[]; offset: string | null } {
  const scale = options.scale ?? 1;
  const suffix = options.suffix ?? "";
  const values = ticks.map((t) => t * scale);
  const finish = (labels: string[], offset: string | null) => ({
    labels: labels.map((l) => l + suffix),
    offset: offset === null ? null : offset + suffix,
  });
  if (values.length === 0) return { labels: [], offset: null };
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return finish(values.map(String), null);
  const order = sorted(finite);
  const maxAbs = Math.max(...order.map(Math.abs));
  let minGap = Infinity;
  let maxGap = 0;
  for (let i = 1; i < order.length; i++) {
    const gap = order[i] - order[i - 1];
    if (gap > 0) {
      minGap = Math.min(minGap, gap);
      maxGap = Math.max(maxGap, gap);
    }
  }
  if (minGap === Infinity) {
    // One value (or the same one repeated): up to 6 significant digits.
    const tol = maxAbs * 5e-7;
    return finish(values.map((v) => (Number.isFinite(v) ? compact(v, tol) : String(v))), null);
  }
  // A label is exact when it reads back within a thousandth of the closest spacing.
  const tol = Math.max(minGap * 1e-3, maxAbs * 1e-15);
  const even = maxGap - minGap <= minGap * 1e-6;
  const span = order[order.length - 1] - order[0];

  // Narrow and far from zero (the first 4+ digits of every label alike): offsets from a round tick.
  if (span < maxAbs * 1e-4) return finish(...offsetLabels(values, order, tol));

  let labels: string[];
  if (!even) {
    labels = values.map((v) => compact(v, tol));
  } else if (order.some((v) => wantsExponent(Math.abs(v))) && (maxAbs >= 1e5 || maxAbs < 1e-3)) {
    const m = Math.max(...order.map((v) => (v === 0 ? 0 : mantissaFor(v, tol))));
    labels = values.map((v) => exponent(v, m));
  } else {
    const d = Math.max(...order.map((v) => decimalsFor(v, tol)));
    labels = values.map((v) => fixed(v, d));
  }
  if (fits(labels) && distinct(labels)) return finish(labels, null);
  return finish(...offsetLabels(values, order, tol));
}

/** Labels as offsets from the roundest tick: inline ("1+5e−6") when short enough, else alone. */
function offsetLabels(values: readonly number[], order: readonly number[], tol: number): [string[], string | null] {
  const middle = (order[0] + order[order.length - 1]) / 2;
  let base = order[0];
  let best = -Infinity;
  for (const v of order) {
    const r = roundness(v, tol);
    if (r > best || (r === best && Math.abs(v - middle) < Math.abs(base - middle))) {
      best = r;
      base = v;
    }
  }
  const baseText = compact(base, Math.abs(base) * 1e-12);
  const delta = (v: number) => {
    const d = v - base;
    if (Math.abs(d) <= tol) return "";
    const text = compact(Math.abs(d), tol);
    return `${d < 0 ? MINUS : "+"}${text}`;
  };
  const inline = values.map((v) => baseText + delta(v));
  if (fits(inline) && distinct(inline)) return [inline, null];
  return [values.map((v) => delta(v) || "0"), baseText];
}

/** Reads a label back into its number ("1−5e−6" → 0.999995, "2.5e5%" → 250000); NaN if it is not one. */
export function parseTickLabel(label: string): number {
  const text = label.replaceAll(MINUS, "-").replace(/%$/, "").trim();
  const match = /^([+-]?[\d.]+(?:e-?\d+)?)(?:([+-])([\d.]+(?:e-?\d+)?))?$/.exec(text);
  if (!match) return Number.NaN;
  const base = Number(match[1]);
  if (!match[2]) return base;
  const delta = Number(match[3]);
  return match[2] === "+" ? base + delta : base - delta;
}

/**
 * A linear axis over [lo, hi] with about `count` ticks, all inside it (at least two when the range
 * is not flat: a spacing that leaves one is halved); `integer` keeps whole numbers only.
 */
export function linearAxis(
  lo: number,
  hi: number,
  count: number,
  options: TickFormat & { integer?: boolean } = {},
): Axis {
  const slack = Math.abs(hi - lo) * 1e-9;
  const inside = (n: number) => {
    const ticks = niceTicks(lo, hi, n).filter((t) => t >= lo - slack && t <= hi + slack);
    return options.integer ? ticks.filter(Number.isInteger) : ticks;
  };
  let ticks = inside(count);
  for (let n = Math.max(1, count) * 2; ticks.length < 2 && n <= Math.max(1, count) * 8; n *= 2) {
    const more = inside(n);
    if (more.length > ticks.length) ticks = more;
  }
  return { ticks, ...tickLabels(ticks, options) };
}

/** A log axis over positive [lo, hi] with at most `maxCount` ticks. */
export function logAxis(lo: number, hi: number, maxCount = 8, format: TickFormat = {}): Axis {
  const ticks = logTicks(lo, hi, maxCount);
  return { ticks, ...tickLabels(ticks, format) };
}
