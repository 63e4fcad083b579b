// Scales and paths for the codebook page's SVG charts: linear and log axes and an SVG path that
// lifts the pen at gaps (their ticks are in ../ticks.ts).

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

