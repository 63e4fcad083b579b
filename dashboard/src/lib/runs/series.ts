// The live per-step series of a run (step, loss, mean weight cosine), filled from the batched
// `steps` server-sent events. A run goes to a million steps, so the values live in growable typed
// arrays: appending copies nothing but the new steps, and a chart reads the first `length` values.

import type { RunStepsEvent } from "../runs-types";

export interface LiveSeries {
  /** The run these steps belong to; another run starts an empty series. */
  runId: string | null;
  /** How many steps are filled; the arrays may be longer (spare capacity). */
  length: number;
  steps: Float64Array;
  /** NaN where the trainer sent null (a non-finite value). */
  loss: Float64Array;
  cosine: Float64Array;
}

const INITIAL_CAPACITY = 1024;

export function emptySeries(runId: string | null = null): LiveSeries {
  return { runId, length: 0, steps: new Float64Array(0), loss: new Float64Array(0), cosine: new Float64Array(0) };
}

/** The last step in the series, or 0 when it is empty. */
export function lastStep(series: LiveSeries): number {
  return series.length ? series.steps[series.length - 1] : 0;
}

/** The value of `column` at the last step (NaN when empty). */
export function lastValue(series: LiveSeries, column: "loss" | "cosine"): number {
  return series.length ? series[column][series.length - 1] : Number.NaN;
}

/**
 * Adds the steps of an event that are newer than the series' last step (a reconnected stream
 * sends the run again from step 1). An event of another run starts over from it. Returns a new
 * object (so stores notice) that may share the arrays of the old one: only values past the old
 * `length` are written, which no holder of the old object reads.
 */
export function appendSteps(series: LiveSeries, event: RunStepsEvent): LiveSeries {
  const base = series.runId === event.run_id ? series : emptySeries(event.run_id);
  const last = base.length ? base.steps[base.length - 1] : -Infinity;
  let first = 0;
  while (first < event.steps.length && event.steps[first] <= last) first++;
  const added = event.steps.length - first;
  if (added <= 0) return base === series ? series : base;

  const need = base.length + added;
  let { steps, loss, cosine } = base;
  if (need > steps.length) {
    const capacity = Math.max(INITIAL_CAPACITY, steps.length * 2, need);
    steps = grow(steps, capacity, base.length);
    loss = grow(loss, capacity, base.length);
    cosine = grow(cosine, capacity, base.length);
  }
  for (let i = 0; i < added; i++) {
    const at = base.length + i;
    const from = first + i;
    steps[at] = event.steps[from];
    loss[at] = numberOrNaN(event.loss?.[from]);
    cosine[at] = numberOrNaN(event.weight_cosine_mean?.[from]);
  }
  return { runId: base.runId, length: need, steps, loss, cosine };
}

function grow(array: Float64Array, capacity: number, keep: number): Float64Array {
  const bigger = new Float64Array(capacity);
  bigger.set(array.subarray(0, keep));
  return bigger;
}

function numberOrNaN(value: number | null | undefined): number {
  return typeof value === "number" ? value : Number.NaN;
}


