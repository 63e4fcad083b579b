// The per-feature timeline of the inspector: one `[D]` history key (win_rate, ...) over the
// session's steps, as a strip (x = step, y = feature, colour = value). Pure functions: how the
// history answers build the matrix, how many steps share a pixel column, and the pixels.
// feature-timeline-store.ts fetches; InspectFeatureTimeline.tsx draws.
import { KEY_META, type StepTensorKey } from "./generated/tensor-keys";
import type { HistoryValue, InspectHistoryResponse } from "./inspect-types";
import { type Domain, type Lut, packedLut, pixelWords } from "./views/colour";

/** The history keys with one value per feature (`[D]`), in the order of the Python enum. */
export const FEATURE_HISTORY_KEYS: readonly StepTensorKey[] = (Object.keys(KEY_META) as StepTensorKey[]).filter(
  (key) => KEY_META[key].history && KEY_META[key].shape.length === 1 && KEY_META[key].shape[0] === "D",
);

/** The key the timeline shows first: a feature that stops winning has died. */
export const DEFAULT_FEATURE_KEY: StepTensorKey = "win_rate";

/** Rows kept in the page at most; older steps fall off the front (the trainer keeps fewer anyway). */
export const MAX_MATRIX_ROWS = 20_000;

/** One `[D]` key over the steps of a session. */
export interface FeatureMatrix {
  sessionId: string | null;
  key: StepTensorKey;
  /** Increasing step numbers; `rows[i]` belongs to `steps[i]`. */
  steps: number[];
  /** D values per step (NaN where the value was NaN/Inf), or null where the trainer did not hold the row. */
  rows: (Float32Array | null)[];
  /** D: the length of the rows (0 before the first held row). */
  dim: number;
  /** Whether the session captures the key: true once a column came back, false when an answer with
   * steps lacked it, null before any answer. */
  captured: boolean | null;
}

export function emptyMatrix(sessionId: string | null, key: StepTensorKey): FeatureMatrix {
  return { sessionId, key, steps: [], rows: [], dim: 0, captured: null };
}

/** One history cell as a row: a vector (its nulls as NaN), or null for a missing row or a scalar. */
export function toRow(value: HistoryValue | undefined): Float32Array | null {
  if (!Array.isArray(value)) return null;
  const row = new Float32Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    row[i] = typeof v === "number" ? v : NaN;
  }
  return row;
}

/**
 * `base` with the steps of `answer` after its last one appended (rows of a column the answer lacks
 * are null), at most `maxRows` rows kept (the newest). Returns `base` itself when nothing changed.
 */
export function appendMatrix(base: FeatureMatrix, answer: InspectHistoryResponse, maxRows = MAX_MATRIX_ROWS): FeatureMatrix {
  const column = answer.columns[base.key];
  const captured = column ? true : answer.steps.length > 0 ? (base.captured ?? false) : base.captured;
  const last = base.steps.at(-1) ?? -Infinity;
  const fresh = answer.steps.findIndex((step) => step > last);
  if (fresh < 0) return captured === base.captured ? base : { ...base, captured };
  let steps = base.steps.concat(answer.steps.slice(fresh));
  let rows = base.rows.slice();
  let dim = base.dim;
  for (let i = fresh; i < answer.steps.length; i++) {
    const row = toRow(column?.[i]);
    if (row) dim = Math.max(dim, row.length);
    rows.push(row);
  }
  if (steps.length > maxRows) {
    steps = steps.slice(steps.length - maxRows);
    rows = rows.slice(rows.length - maxRows);
  }
  return { ...base, steps, rows, dim, captured };
}

/** Rows `[start, end)` of the matrix that share one pixel column. */
export interface Bucket {
  start: number;
  end: number;
}

/** `n` rows spread over at most `width` columns: one row each when they fit, else even runs. */
export function bucketsFor(n: number, width: number): Bucket[] {
  const columns = Math.max(1, Math.floor(width));
  const out: Bucket[] = [];
  if (n <= 0) return out;
  if (n <= columns) {
    for (let i = 0; i < n; i++) out.push({ start: i, end: i + 1 });
    return out;
  }
  for (let c = 0; c < columns; c++) {
    out.push({ start: Math.floor((c * n) / columns), end: Math.floor(((c + 1) * n) / columns) });
  }
  return out;
}

/** The strip as drawn: one cell per (feature, column). */
export interface FeatureStrip {
  cols: number;
  dim: number;
  buckets: Bucket[];
  /**
   * Feature-major (`values[f * cols + c]`): the mean of the column's finite values of feature f;
   * NaN where one of them was NaN/Inf (so a single bad step still shows), or where no row is held.
   */
  values: Float32Array;
  /** 1 where the column has at least one held row. */
  held: Uint8Array;
  /** Finite cells drawn, their range, and the NaN/Inf cells. */
  min: number;
  max: number;
  count: number;
  nonfinite: number;
  /** The sum of the finite cells: a fingerprint of what is drawn (tests read it). */
  sum: number;
}

/** The strip of `matrix` at most `width` columns wide (steps averaged per column when there are more). */
export function stripOf(matrix: FeatureMatrix, width: number): FeatureStrip {
  const buckets = bucketsFor(matrix.steps.length, width);
  const cols = buckets.length;
  const dim = matrix.dim;
  const values = new Float32Array(cols * dim).fill(NaN);
  const held = new Uint8Array(cols);
  const sums = new Float64Array(dim);
  const counts = new Uint32Array(dim);
  const bad = new Uint8Array(dim);
  let min = Infinity;
  let max = -Infinity;
  let count = 0;
  let nonfinite = 0;
  let sum = 0;
  for (let c = 0; c < cols; c++) {
    const { start, end } = buckets[c];
    sums.fill(0);
    counts.fill(0);
    bad.fill(0);
    let any = false;
    for (let i = start; i < end; i++) {
      const row = matrix.rows[i];
      if (!row) continue;
      any = true;
      for (let f = 0; f < row.length && f < dim; f++) {
        const v = row[f];
        if (v - v !== 0) bad[f] = 1;
        else {
          sums[f] += v;
          counts[f]++;
        }
      }
    }
    if (!any) continue;
    held[c] = 1;
    for (let f = 0; f < dim; f++) {
      if (bad[f]) {
        nonfinite++;
        continue;
      }
      if (!counts[f]) continue;
      const mean = sums[f] / counts[f];
      values[f * cols + c] = mean;
      if (mean < min) min = mean;
      if (mean > max) max = mean;
      count++;
      sum += mean;
    }
  }
  if (count === 0) {
    min = NaN;
    max = NaN;
  }
  return { cols, dim, buckets, values, held, min, max, count, nonfinite, sum };
}

/** What one cell of the strip covers: its steps and feature f's values there. */
export interface CellStats {
  firstStep: number;
  lastStep: number;
  /** Steps in the cell whose row is held, and those with a finite value. */
  held: number;
  finite: number;
  nonfinite: number;
  mean: number;
  min: number;
  max: number;
}

export function cellStats(matrix: FeatureMatrix, bucket: Bucket, feature: number): CellStats {
  let held = 0;
  let finite = 0;
  let nonfinite = 0;
  let total = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = bucket.start; i < bucket.end; i++) {
    const row = matrix.rows[i];
    if (!row) continue;
    held++;
    const v = row[feature];
    if (v === undefined) continue;
    if (v - v !== 0) {
      nonfinite++;
      continue;
    }
    finite++;
    total += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return {
    firstStep: matrix.steps[bucket.start],
    lastStep: matrix.steps[bucket.end - 1],
    held,
    finite,
    nonfinite,
    mean: finite ? total / finite : NaN,
    min: finite ? min : NaN,
    max: finite ? max : NaN,
  };
}

/** Feature `f` over the steps: its value per step, null where not held or not finite. */
export function featureSeries(matrix: FeatureMatrix, feature: number): (number | null)[] {
  return matrix.rows.map((row) => {
    const v = row?.[feature];
    return v !== undefined && v - v === 0 ? v : null;
  });
}

/**
 * The strip's pixels: `cols × dim` RGBA, one per cell, row f = feature f. A NaN/Inf cell draws in
 * the non-finite colour (magenta), a column without any held row stays transparent.
 */
export function paintStrip(strip: FeatureStrip, pixels: Uint8ClampedArray, lut: Lut, domain: Domain): void {
  const words = pixelWords(pixels);
  const table = packedLut(lut);
  const top = table.length - 2; // the last colour; the entry after it is the non-finite colour
  const scale = top / (domain.hi - domain.lo || 1);
  const { cols, dim, values, held } = strip;
  for (let f = 0; f < dim; f++) {
    for (let c = 0; c < cols; c++) {
      const i = f * cols + c;
      if (!held[c]) {
        words[i] = 0;
        continue;
      }
      const v = values[i];
      if (v - v !== 0) {
        words[i] = table[top + 1];
        continue;
      }
      const t = (v - domain.lo) * scale;
      words[i] = table[t <= 0 ? 0 : t >= top ? top : (t + 0.5) | 0];
    }
  }
}

/** About `count` round step numbers within [lo, hi] for the axis (1, 2 or 5 × 10^k apart). */
export function stepTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi >= lo)) return [];
  if (hi === lo) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const spacing = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const every = Math.max(1, Math.round(spacing));
  const out: number[] = [];
  for (let t = Math.ceil(lo / every) * every; t <= hi; t += every) out.push(t);
  return out;
}

/** Feature rows to label on the y axis: 0, every `every`-th, and the last. */
export function featureTicks(dim: number, every = 16): number[] {
  if (dim <= 0) return [];
  const out: number[] = [];
  for (let f = 0; f < dim; f += every) out.push(f);
  if (out.at(-1) !== dim - 1 && dim - 1 - (out.at(-1) ?? 0) >= every / 2) out.push(dim - 1);
  return out;
}
