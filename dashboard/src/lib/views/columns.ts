// The per-feature metrics table, as data: which columns there are (found in the key metadata, not
// listed by hand), their values for one step, summary statistics, sorting, and the feature classes.
import { KEY_META, StepTensorKey, type KeyMeta, type StepTensorKey as Key } from "../generated/tensor-keys";
import type { FrameTensor } from "../tensor-frame";

/** A column of the table: a [D] key as it is, or a [B, D] key averaged over the batch. */
export interface MetricColumn {
  key: Key;
  reduce: "value" | "batch_mean";
  meta: KeyMeta;
}

/** The key whose value classifies features (dead / contender / winner) and leads the table. */
export const CLASS_KEY: Key = StepTensorKey.WIN_RATE;
/** Below this win rate a feature is dead; above WINNER_ABOVE a winner; a contender between. */
export const DEAD_BELOW = 0.01;
export const WINNER_ABOVE = 0.05;

export type FeatureClass = "dead" | "contender" | "winner";

/** The class of a feature with win rate `w`; null when the rate is not a number. */
export function classify(w: number): FeatureClass | null {
  if (Number.isNaN(w)) return null;
  return w < DEAD_BELOW ? "dead" : w > WINNER_ABOVE ? "winner" : "contender";
}

function sameShape(shape: readonly string[], symbols: readonly string[]): boolean {
  return shape.length === symbols.length && shape.every((s, i) => s === symbols[i]);
}

/**
 * Every per-feature quantity of the vocabulary: the [D] keys (indices excluded) in enum order, the
 * class key first, then the [B, D] keys averaged over the batch.
 */
export function discoverColumns(meta: Readonly<Record<string, KeyMeta>> = KEY_META): MetricColumn[] {
  const entries = Object.entries(meta) as [Key, KeyMeta][];
  const numeric = ([, m]: [Key, KeyMeta]) => m.scale !== "index";
  const perFeature = entries.filter((e) => numeric(e) && sameShape(e[1].shape, ["D"]));
  perFeature.sort(([a], [b]) => Number(b === CLASS_KEY) - Number(a === CLASS_KEY));
  const perImage = entries.filter((e) => numeric(e) && sameShape(e[1].shape, ["B", "D"]));
  return [
    ...perFeature.map(([key, m]) => ({ key, reduce: "value" as const, meta: m })),
    ...perImage.map(([key, m]) => ({ key, reduce: "batch_mean" as const, meta: m })),
  ];
}

/**
 * A column's D values: the tensor itself for [D], the mean over the batch (axis 0) for [B, D].
 * A NaN anywhere in a feature's batch makes its mean NaN, so it shows instead of hiding.
 */
export function columnValues(tensor: FrameTensor, reduce: MetricColumn["reduce"]): Float64Array {
  const { data, shape } = tensor;
  if (reduce === "value") return Float64Array.from(data);
  const [rows, cols] = shape;
  const out = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c] += data[base + c];
  }
  for (let c = 0; c < cols; c++) out[c] /= rows;
  return out;
}

export interface Summary {
  mean: number;
  min: number;
  max: number;
  /** Finite values the figures are over. */
  count: number;
  nonfinite: number;
}

/** Mean, min and max over the finite values (NaN when there are none). */
export function summarize(values: ArrayLike<number>): Summary {
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    sum += v;
    count++;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (count === 0) return { mean: NaN, min: NaN, max: NaN, count, nonfinite: values.length };
  return { mean: sum / count, min, max, count, nonfinite: values.length - count };
}

export type SortDirection = "asc" | "desc";

/**
 * Row order that sorts `values`: stable (ties keep index order), NaN always last, +Inf/−Inf where
 * they belong.
 */
export function sortOrder(values: ArrayLike<number>, direction: SortDirection): number[] {
  const sign = direction === "asc" ? 1 : -1;
  const order = Array.from({ length: values.length }, (_, i) => i);
  order.sort((a, b) => {
    const va = values[a];
    const vb = values[b];
    const na = Number.isNaN(va);
    const nb = Number.isNaN(vb);
    if (na || nb) return na === nb ? a - b : na ? 1 : -1;
    if (va === vb) return a - b;
    return va < vb ? -sign : sign;
  });
  return order;
}

export interface SortState<K> {
  key: K;
  direction: SortDirection;
}

/** The sort after a click on `key`'s header: another column starts at `first` (largest first by
 * default), the same column reverses. */
export function nextSort<K>(current: SortState<K> | null, key: K, first: SortDirection = "desc"): SortState<K> {
  if (current && current.key === key) return { key, direction: current.direction === "desc" ? "asc" : "desc" };
  return { key, direction: first };
}
