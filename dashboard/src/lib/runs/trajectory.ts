// Watched features: parsing what the user types, turning `GET /debug/trajectories` into one line
// per feature for the chosen metric, the watched features' similarity matrix, and the export.

import { QUANTITY_NAMES } from "../quantities";
import type { RunStateActive, TrajectoriesResponse, TrajectoryField } from "../runs-types";
import { categorical } from "../views/colour";

/** The metrics the trajectory chart can show, with how to read them. */
export const TRAJECTORY_METRICS: readonly { field: TrajectoryField; label: string; hint: string }[] = [
  { field: "weight_cos_to_init", label: "cos to start", hint: "cosine of the weights to their weights when the watch began" },
  { field: "win_rate", label: "win rate", hint: "mean rank_score over the batch" },
  { field: "grad_magnitude", label: QUANTITY_NAMES.grad_magnitude.label, hint: QUANTITY_NAMES.grad_magnitude.title },
  { field: "som_magnitude", label: QUANTITY_NAMES.som_magnitude.label, hint: QUANTITY_NAMES.som_magnitude.title },
  { field: "feature_novelty", label: "novelty", hint: "how unique the feature's wins are" },
];

/** One feature's line for one metric. */
export interface TrajectoryLine {
  feature: number;
  /** Whether the feature is still watched (an unwatched one keeps its trajectory until cleared). */
  watched: boolean;
  color: string;
  steps: number[];
  /** NaN where the trainer sent null. */
  values: number[];
  /** Points recorded (also when the metric itself is missing). */
  count: number;
}

/** The colour of a feature: by its position among the features shown, stable while they stay. */
export function featureColor(features: readonly number[], feature: number): string {
  const i = features.indexOf(feature);
  return categorical(i < 0 ? feature : i);
}

/** Every feature with a trajectory or a watch, watched ones first in watch order, then the rest. */
export function shownFeatures(trajectories: TrajectoriesResponse | null, watched: readonly number[]): number[] {
  const rest = Object.keys(trajectories?.features ?? {})
    .map(Number)
    .filter((f) => !watched.includes(f))
    .sort((a, b) => a - b);
  return [...watched, ...rest];
}

/** One line per shown feature for `metric`. */
export function trajectoryLines(
  trajectories: TrajectoriesResponse | null,
  watched: readonly number[],
  metric: TrajectoryField,
): TrajectoryLine[] {
  const features = shownFeatures(trajectories, watched);
  return features.map((feature) => {
    const t = trajectories?.features[String(feature)];
    const steps = t?.step ?? [];
    const raw = t?.[metric];
    const values = steps.map((_, i) => {
      const v = raw?.[i];
      return typeof v === "number" ? v : Number.NaN;
    });
    return {
      feature,
      watched: watched.includes(feature),
      color: featureColor(features, feature),
      steps,
      values,
      count: steps.length,
    };
  });
}

export type ParsedFeatures = { ids: number[]; error: null } | { ids: null; error: string };

/**
 * Feature ids typed by hand: "0, 15 31", ranges "3-6". Each must be an integer in 0..dim−1; the
 * result is de-duplicated, in the order typed, and at most `max` long.
 */
export function parseFeatureIds(text: string, dim: number, max: number): ParsedFeatures {
  const ids: number[] = [];
  const tokens = text.split(/[\s,;]+/).filter(Boolean);
  for (const token of tokens) {
    const range = /^(\d+)\s*[-–]\s*(\d+)$/.exec(token);
    const [from, to] = range ? [Number(range[1]), Number(range[2])] : [Number(token), Number(token)];
    if (!/^\d+([-–]\d+)?$/.test(token) || !Number.isSafeInteger(from) || !Number.isSafeInteger(to)) {
      return { ids: null, error: `'${token}' is not a feature index (an integer in 0..${dim - 1})` };
    }
    if (to < from) return { ids: null, error: `'${token}' is an empty range` };
    for (let f = from; f <= to; f++) {
      if (f >= dim) return { ids: null, error: `feature ${f} does not exist: the model has features 0..${dim - 1}` };
      if (!ids.includes(f)) ids.push(f);
      if (ids.length > max) return { ids: null, error: `at most ${max} features can be watched` };
    }
  }
  return { ids, error: null };
}

/** Adds `feature` to the watch list (no-op when there, or when the list is full). */
export function withFeature(watched: readonly number[], feature: number, max: number): number[] {
  if (watched.includes(feature) || watched.length >= max) return [...watched];
  return [...watched, feature];
}

export function withoutFeature(watched: readonly number[], feature: number): number[] {
  return watched.filter((f) => f !== feature);
}

/** The similarity matrix of the watched features, or null before the first recorded step. */
export interface SimilarityMatrix {
  features: number[];
  /** NaN where the trainer sent null. */
  values: number[][];
}

export function similarityMatrix(trajectories: TrajectoriesResponse | null): SimilarityMatrix | null {
  if (!trajectories?.similarity || trajectories.similarity_features.length === 0) return null;
  return {
    features: trajectories.similarity_features,
    values: trajectories.similarity.map((row) => row.map((v) => (typeof v === "number" ? v : Number.NaN))),
  };
}

/** Mean of the off-diagonal entries (NaN when there are none). */
export function meanOffDiagonal(matrix: SimilarityMatrix): number {
  let sum = 0;
  let count = 0;
  matrix.values.forEach((row, i) =>
    row.forEach((v, j) => {
      if (i !== j && Number.isFinite(v)) {
        sum += v;
        count++;
      }
    }),
  );
  return count ? sum / count : Number.NaN;
}

/** What Export downloads: the run, the watch list and every trajectory as the trainer sent it. */
export function trajectoryExport(run: RunStateActive, trajectories: TrajectoriesResponse, exportedAt: Date) {
  return {
    format: "acc-trajectories/1",
    exported_at: exportedAt.toISOString(),
    run: {
      run_id: run.run_id,
      recipe: run.recipe,
      condition: run.condition,
      seed: run.seed,
      steps: run.steps,
      step: run.step,
      status: run.status,
    },
    fields: trajectories.fields,
    watched: trajectories.watched,
    max_points: trajectories.max_points,
    features: trajectories.features,
    similarity_features: trajectories.similarity_features,
    similarity: trajectories.similarity,
  };
}

/** A file name for the export: "acc-trajectories-<run>-step<k>.json". */
export function exportFileName(run: RunStateActive, step: number): string {
  return `acc-trajectories-${run.run_id}-step${step}.json`;
}
