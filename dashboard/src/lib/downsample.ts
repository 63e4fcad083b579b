// Drawing a long series as a line only as detailed as the pixels it covers. A line `columns`
// pixels wide can show at most a few distinct values per pixel column: where it enters the
// column, its lowest and highest point, and where it leaves (the "M4" reduction). Keeping those
// four points per column draws the same pixels as the whole series, so spikes survive; the first
// non-finite value of a column is kept too, so a NaN/Inf still breaks the line where it was.

/** Whether `v` is a finite number (null, NaN and ±Inf are gaps in the line). */
export function isFiniteValue(v: number | null | undefined): v is number {
  return typeof v === "number" && v - v === 0;
}

/**
 * Indices into `xs`/`ys`, increasing, of the points in [start, end) to draw as a line `columns`
 * pixels wide between x = x0 and x = x1 (default: the first and last x of the range). When the
 * range has no more points than columns, every index is returned (the line is drawn exact).
 * Otherwise each column keeps its first and last point, its lowest and highest finite value and
 * its first non-finite value: at most 5 per column, however long the series.
 */
export function downsampleIndices(
  xs: ArrayLike<number>,
  ys: ArrayLike<number | null>,
  start: number,
  end: number,
  columns: number,
  x0 = xs[start],
  x1 = xs[end - 1],
  keepLast = true,
): number[] {
  const from = Math.max(0, start);
  const to = Math.min(end, xs.length, ys.length);
  const out: number[] = [];
  if (to <= from) return out;
  const width = Math.max(1, Math.floor(columns));
  if (to - from <= width) {
    for (let i = from; i < to; i++) out.push(i);
    return out;
  }
  const span = x1 - x0 || 1;
  const columnOf = (i: number) => {
    const c = Math.floor(((xs[i] - x0) / span) * width);
    return c < 0 ? 0 : c >= width ? width - 1 : c;
  };
  let i = from;
  while (i < to) {
    const column = columnOf(i);
    const first = i;
    let lo = -1;
    let hi = -1;
    let gap = -1;
    let last = i;
    for (; i < to && columnOf(i) === column; i++) {
      last = i;
      const y = ys[i];
      if (!isFiniteValue(y)) {
        if (gap < 0) gap = i;
      } else {
        if (lo < 0 || y < (ys[lo] as number)) lo = i;
        if (hi < 0 || y > (ys[hi] as number)) hi = i;
      }
    }
    // The (at most five) kept indices of the column, in order and without repeats.
    const keep = [first, lo, hi, gap, keepLast ? last : -1].filter((k) => k >= 0).sort((a, b) => a - b);
    for (let k = 0; k < keep.length; k++) if (k === 0 || keep[k] !== keep[k - 1]) out.push(keep[k]);
  }
  return out;
}

/** Points of a line, as two arrays. */
export interface LinePoints {
  x: number[];
  y: number[];
}

/**
 * At most about `3 × buckets` points that draw like all `length` of them: the x range is cut into
 * `buckets` equal slices and each keeps its first, lowest and highest point and its first
 * non-finite one (in x order), so spikes and gaps survive. Up to `2 × buckets` points everything
 * is returned as it is. (`downsampleIndices` without each slice's last point.)
 */
export function decimate(xs: ArrayLike<number>, ys: ArrayLike<number>, length: number, buckets: number): LinePoints {
  const n = Math.min(length, xs.length, ys.length);
  const out: LinePoints = { x: [], y: [] };
  if (n === 0) return out;
  const indices =
    n <= buckets * 2 || buckets < 1
      ? Array.from({ length: n }, (_, i) => i)
      : downsampleIndices(xs, ys, 0, n, buckets, xs[0], xs[n - 1], false);
  for (const i of indices) {
    out.x.push(xs[i]);
    out.y.push(ys[i]);
  }
  return out;
}

/**
 * An SVG path through the points at `indices`, lifting the pen at every point without a pixel
 * (a non-finite value, or one the scale cannot place, e.g. ≤ 0 on a log axis) and starting again
 * at the next one. Coordinates are rounded to 0.1 px. The one line-path builder of every chart.
 */
export function linePathAt(
  indices: Iterable<number>,
  xs: ArrayLike<number>,
  ys: ArrayLike<number | null>,
  x: (step: number) => number,
  y: (value: number) => number,
): string {
  let path = "";
  let pen = false;
  for (const i of indices) {
    const value = ys[i];
    const px = x(xs[i]);
    const py = isFiniteValue(value) ? y(value) : Number.NaN;
    if (Number.isFinite(px) && Number.isFinite(py)) {
      path += `${pen ? "L" : "M"}${px.toFixed(1)},${py.toFixed(1)}`;
      pen = true;
    } else {
      pen = false;
    }
  }
  return path;
}

/** `linePathAt` through every point. */
export function linePath(
  xs: ArrayLike<number>,
  ys: ArrayLike<number | null>,
  x: (step: number) => number,
  y: (value: number) => number,
): string {
  const count = Math.min(xs.length, ys.length);
  return linePathAt(Array.from({ length: count }, (_, i) => i), xs, ys, x, y);
}
