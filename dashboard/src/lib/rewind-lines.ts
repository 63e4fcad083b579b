// What a rewind does to the page's copies of the history, and the branches' loss lines. Pure
// functions; rewind-store.ts fetches and holds the results.
import type { StepTensorKey } from "./generated/tensor-keys";
import type { InspectHistory } from "./inspect-history";
import type { InspectHistoryResponse } from "./inspect-types";
import type { BranchSummary } from "./rewind-types";
import type { LiveSeries } from "./runs/series";

/** A branch's losses, ready to overlay on a loss chart (NaN where a loss was not finite). */
export interface BranchLine {
  id: number;
  forkStep: number;
  label: string;
  steps: Float64Array;
  losses: Float64Array;
}

/** The inspector history without the steps after `step` (they left for a branch). */
export function historyUpTo(history: InspectHistory, step: number): InspectHistory {
  const keep = countUpTo(history.steps, history.steps.length, step);
  if (keep === history.steps.length) return history;
  const columns: InspectHistory["columns"] = {};
  for (const key of Object.keys(history.columns) as StepTensorKey[]) columns[key] = history.columns[key]?.slice(0, keep);
  return {
    ...history,
    steps: history.steps.slice(0, keep),
    columns,
    failed: history.failed.filter((attempt) => attempt.step <= step),
  };
}

/** The live run series without the steps after `step` (copied: holders of the old one keep it). */
export function seriesUpTo(series: LiveSeries, step: number): LiveSeries {
  const keep = countUpTo(series.steps, series.length, step);
  if (keep === series.length) return series;
  return {
    runId: series.runId,
    length: keep,
    steps: series.steps.slice(0, keep),
    loss: series.loss.slice(0, keep),
    cosine: series.cosine.slice(0, keep),
  };
}

/**
 * A branch's line from its summary and its `…/branches/{id}/history?keys=loss` answer. With the
 * loss of the fork step (the same on every line), the line starts there, where it leaves the
 * current one.
 */
export function branchLine(branch: BranchSummary, history: InspectHistoryResponse, forkLoss: number | null = null): BranchLine {
  const losses = (history.columns.loss ?? []).map((value) => (typeof value === "number" ? value : Number.NaN));
  const steps = [...history.steps];
  if (forkLoss !== null && Number.isFinite(forkLoss)) {
    steps.unshift(branch.fork_step);
    losses.unshift(forkLoss);
  }
  return {
    id: branch.id,
    forkStep: branch.fork_step,
    label: branch.label,
    steps: Float64Array.from(steps),
    losses: Float64Array.from(losses),
  };
}

/** How many of the first `length` (ascending) steps are at most `step`. */
function countUpTo(steps: ArrayLike<number>, length: number, step: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (steps[mid] <= step) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
