// The force scatter's data: per feature, this step's gradient and SOM update magnitudes and its
// win rate, from a decoded step frame or from the run's history (both carry the [D] vectors).

import type { InspectHistoryResponse } from "../inspect-types";

export interface ForcePoint {
  feature: number;
  grad: number;
  som: number;
  win: number;
}

export interface StepForces {
  runId: string;
  step: number;
  points: ForcePoint[];
}

/** Win rate below which a feature counts as dead, above which as a winner (the seed's colours). */
export const DEAD_WIN_RATE = 0.01;
export const WINNER_WIN_RATE = 0.05;

/** The history keys the scatter is drawn from. */
export const FORCE_KEYS = ["grad_magnitude", "som_magnitude", "win_rate"] as const;

/** Points from three [D] vectors; null when a vector is missing (a `control` run has no forces). */
export function forcePoints(
  grad: ArrayLike<number | null> | undefined | null,
  som: ArrayLike<number | null> | undefined | null,
  win: ArrayLike<number | null> | undefined | null,
): ForcePoint[] | null {
  if (!grad || !som) return null;
  const n = Math.min(grad.length, som.length);
  const points: ForcePoint[] = [];
  for (let f = 0; f < n; f++) {
    points.push({ feature: f, grad: num(grad[f]), som: num(som[f]), win: num(win?.[f]) });
  }
  return points;
}

/** The forces of the newest step in a history answer; null without one or without forces. */
export function forcesFromHistory(runId: string, history: InspectHistoryResponse): StepForces | null {
  const i = history.steps.length - 1;
  if (i < 0) return null;
  const column = (key: (typeof FORCE_KEYS)[number]) => {
    const value = history.columns[key]?.[i];
    return Array.isArray(value) ? value : null;
  };
  const points = forcePoints(column("grad_magnitude"), column("som_magnitude"), column("win_rate"));
  return points ? { runId, step: history.steps[i], points } : null;
}

/** Counts and means for the scatter's caption: dead and winning features, the average forces. */
export function forceSummary(points: readonly ForcePoint[]) {
  let dead = 0;
  let winners = 0;
  let gradSum = 0;
  let somSum = 0;
  let finite = 0;
  for (const p of points) {
    if (p.win < DEAD_WIN_RATE) dead++;
    else if (p.win > WINNER_WIN_RATE) winners++;
    if (Number.isFinite(p.grad) && Number.isFinite(p.som)) {
      gradSum += p.grad;
      somSum += p.som;
      finite++;
    }
  }
  return {
    dead,
    winners,
    total: points.length,
    meanGrad: finite ? gradSum / finite : Number.NaN,
    meanSom: finite ? somSum / finite : Number.NaN,
  };
}

function num(value: number | null | undefined): number {
  return typeof value === "number" ? value : Number.NaN;
}
