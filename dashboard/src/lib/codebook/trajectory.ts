// The codebook trajectory plot: each code's 2-D position
// over the snapshots, fitted into a box with equal units on both axes (a PCA plane has no
// preferred axis), plus the figures that answer "do dead codes move, do they get gradient?".

import { TAB10 } from "../views/colour";

export type Point = [number, number];

/** Which codes the plot draws. */
export type CodeFilter = "all" | "active" | "dead";

/** A code's colour: tab10 cycled by code index (dead codes are drawn grey by the plot). */
export function codeColour(code: number): string {
  return TAB10[((code % TAB10.length) + TAB10.length) % TAB10.length];
}

/** The codes to draw under `filter`, in index order. */
export function visibleCodes(dead: readonly boolean[], filter: CodeFilter, count = dead.length): number[] {
  const codes: number[] = [];
  for (let k = 0; k < count; k++) {
    const isDead = Boolean(dead[k]);
    if (filter === "all" || (filter === "dead") === isDead) codes.push(k);
  }
  return codes;
}

export interface Bounds {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** The bounding box of the given codes' points over all snapshots (null when there are none). */
export function trajectoryBounds(points: readonly (readonly Point[])[], codes: readonly number[]): Bounds | null {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const k of codes) {
    for (const [x, y] of points[k] ?? []) {
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
  }
  return x0 <= x1 ? { x0, x1, y0, y1 } : null;
}

export interface Fit {
  /** Data → pixel, y pointing up. */
  x: (v: number) => number;
  y: (v: number) => number;
  /** Pixels per data unit (the same on both axes). */
  unit: number;
}

/**
 * Fits `bounds` into a `width` × `height` box less `margin` on every side, with the same pixels per
 * unit on both axes, centred; y grows upwards. A single point sits in the middle.
 */
export function fitBounds(bounds: Bounds, width: number, height: number, margin: number): Fit {
  const w = Math.max(1, width - 2 * margin);
  const h = Math.max(1, height - 2 * margin);
  const spanX = bounds.x1 - bounds.x0;
  const spanY = bounds.y1 - bounds.y0;
  const unit = spanX <= 0 && spanY <= 0 ? 1 : Math.min(spanX > 0 ? w / spanX : Infinity, spanY > 0 ? h / spanY : Infinity);
  const cx = (bounds.x0 + bounds.x1) / 2;
  const cy = (bounds.y0 + bounds.y1) / 2;
  return {
    x: (v) => width / 2 + (v - cx) * unit,
    y: (v) => height / 2 - (v - cy) * unit,
    unit,
  };
}

/** Total distance a code travelled over the snapshots (sum of its segment lengths). */
export function pathLength(points: readonly Point[]): number {
  let total = 0;
  for (let i = 1; i < points.length; i++) {
    const [ax, ay] = points[i - 1];
    const [bx, by] = points[i];
    const d = Math.hypot(bx - ax, by - ay);
    if (Number.isFinite(d)) total += d;
  }
  return total;
}

/** Mean of `values` over the codes where `mask` is `want` (null when there are none). */
export function meanWhere(values: readonly number[], mask: readonly boolean[], want: boolean): number | null {
  let sum = 0;
  let n = 0;
  values.forEach((v, k) => {
    if (Boolean(mask[k]) === want && Number.isFinite(v)) {
      sum += v;
      n++;
    }
  });
  return n ? sum / n : null;
}

/**
 * Dead vs active codes side by side: how far each group moved on average in the 2-D view, and
 * their mean bar value (gradient EMA or EMA cluster size).
 */
export function deadVsActive(
  points: readonly (readonly Point[])[],
  dead: readonly boolean[],
  bars: readonly number[] | null,
): { dead: number; active: number; deadMoved: number | null; activeMoved: number | null; deadBar: number | null; activeBar: number | null } {
  const moved = points.map((p) => pathLength(p));
  const deadCount = dead.filter(Boolean).length;
  return {
    dead: deadCount,
    active: dead.length - deadCount,
    deadMoved: meanWhere(moved, dead, true),
    activeMoved: meanWhere(moved, dead, false),
    deadBar: bars ? meanWhere(bars, dead, true) : null,
    activeBar: bars ? meanWhere(bars, dead, false) : null,
  };
}
