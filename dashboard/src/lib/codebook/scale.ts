// Scales and paths for the codebook page's SVG charts: linear and log axes, an SVG path that
// lifts the pen at gaps, and log-axis ticks.

import { niceTicks } from "../chart";

export interface Scale {
  (value: number): number;
  invert(pixel: number): number;
  domain: [number, number];
}

/** Maps [d0, d1] onto [r0, r1]; a flat domain maps to the middle of the range. */
export function linearScale([d0, d1]: [number, number], [r0, r1]: [number, number]): Scale {
  const span = d1 - d0;
  const scale = ((v: number) => (span === 0 ? (r0 + r1) / 2 : r0 + ((v - d0) / span) * (r1 - r0))) as Scale;
  scale.invert = (p: number) => (r1 === r0 ? d0 : d0 + ((p - r0) / (r1 - r0)) * span);
  scale.domain = [d0, d1];
  return scale;
}

/** Log10 axis over positive [d0, d1]; values ≤ 0 map to NaN (a gap in a line). */
export function logScale([d0, d1]: [number, number], range: [number, number]): Scale {
  const inner = linearScale([Math.log10(d0), Math.log10(d1)], range);
  const scale = ((v: number) => (v > 0 ? inner(Math.log10(v)) : Number.NaN)) as Scale;
  scale.invert = (p: number) => 10 ** inner.invert(p);
  scale.domain = [d0, d1];
  return scale;
}

/** A domain widened by `pad` of its span on both sides (a flat one by ±0.5, or ±10% when log). */
export function padDomain([lo, hi]: [number, number], pad: number, log = false): [number, number] {
  if (log) {
    const a = Math.log10(lo);
    const b = Math.log10(hi);
    const span = b - a || 0.2;
    return [10 ** (a - span * pad), 10 ** (b + span * pad)];
  }
  if (lo === hi) return [lo - 0.5, hi + 0.5];
  const span = hi - lo;
  return [lo - span * pad, hi + span * pad];
}

/** An SVG path through the points; non-finite x or y lifts the pen. */
export function linePath(xs: readonly number[], ys: readonly number[], x: (v: number) => number, y: (v: number) => number): string {
  const parts: string[] = [];
  let pen = false;
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const px = x(xs[i]);
    const py = y(ys[i]);
    if (!Number.isFinite(px) || !Number.isFinite(py)) {
      pen = false;
      continue;
    }
    parts.push(`${pen ? "L" : "M"}${px.toFixed(1)},${py.toFixed(1)}`);
    pen = true;
  }
  return parts.join("");
}

/**
 * Ticks of a log axis over positive [lo, hi]: the powers of ten inside it, plus 2× and 5× when
 * it spans less than three decades; the "nice" linear ticks when it spans less than one.
 */
export function logTicks(lo: number, hi: number, maxCount = 8): number[] {
  if (!(lo > 0) || !(hi > 0) || hi < lo) return [];
  const a = Math.floor(Math.log10(lo));
  const b = Math.ceil(Math.log10(hi));
  if (Math.log10(hi) - Math.log10(lo) < 1) return niceTicks(lo, hi, 4).filter((t) => t > 0);
  const multipliers = b - a <= 3 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let e = a; e <= b; e++) {
    for (const m of multipliers) {
      const v = Number((m * 10 ** e).toPrecision(6));
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push(v);
    }
  }
  if (ticks.length <= maxCount) return ticks;
  return ticks.filter((t) => Number.isInteger(Math.round(Math.log10(t) * 1e6) / 1e6));
}

/** A tick label: compact, with as many digits as the tick spacing `step` needs. */
export function formatTick(value: number, log: boolean, step = 0): string {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (log || abs < 1e-3 || abs >= 1e5) {
    if (abs >= 1e-3 && abs < 1e4) return String(Number(value.toPrecision(3)));
    // Enough mantissa digits that neighbouring ticks differ: 1.5e-4 next to 1e-4.
    const digits = step > 0 ? Math.min(3, Math.max(0, Math.floor(Math.log10(abs)) - Math.floor(Math.log10(Math.abs(step))))) : 0;
    return value
      .toExponential(digits)
      .replace(/\.?0+e/, "e")
      .replace("e-", "e−")
      .replace("e+", "e");
  }
  const decimals = Math.min(6, Math.max(0, -Math.floor(Math.log10(Math.abs(step) || 1))));
  return value.toFixed(decimals);
}
