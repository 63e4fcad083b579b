// The codebook run's per-step series, filled from `GET /codebook/history?since=K`, and the lines
// of the loss chart built from it. Appending copies nothing but the new steps.

import type { CodebookHistoryResponse, RevivalEvent, ValidationPoint } from "../codebook-types";

export const SCALAR_COLUMNS = ["loss", "reconstruction", "commitment", "codebook", "wasserstein"] as const;
export type ScalarColumn = (typeof SCALAR_COLUMNS)[number];

export interface CodebookSeries {
  /** The run these steps belong to; another run starts an empty series. */
  runId: string | null;
  steps: number[];
  /** One array per column, NaN where the trainer sent null. */
  scalars: Record<ScalarColumn, number[]>;
  /** `[L][S]`: window-free per-batch perplexity and usage, one array per level. */
  perplexity: number[][];
  usage: number[][];
  /** The validation passes, by increasing step (every 50 steps, and step 1). */
  validation: ValidationPoint[];
}

export function emptySeries(runId: string | null = null): CodebookSeries {
  return {
    runId,
    steps: [],
    scalars: { loss: [], reconstruction: [], commitment: [], codebook: [], wasserstein: [] },
    perplexity: [],
    usage: [],
    validation: [],
  };
}

/** The last step held, or 0. */
export function lastStep(series: CodebookSeries): number {
  return series.steps.length ? series.steps[series.steps.length - 1] : 0;
}

/** The `since` of the next history request: the step after the last one held. */
export function nextSince(series: CodebookSeries): number {
  return lastStep(series) + 1;
}

/**
 * Adds an answer's steps newer than the last one held, and its validation passes not yet held
 * (a pass can arrive before its step does). An answer of another run starts over from it.
 * Returns a new object (so stores notice) that may share the arrays of the old one.
 */
export function appendHistory(series: CodebookSeries, answer: CodebookHistoryResponse): CodebookSeries {
  const base = series.runId === answer.run_id ? series : emptySeries(answer.run_id);
  const last = base.steps.length ? base.steps[base.steps.length - 1] : -Infinity;
  let first = 0;
  while (first < answer.steps.length && answer.steps[first] <= last) first++;

  const steps = base.steps;
  const scalars = base.scalars;
  const perplexity = base.perplexity;
  const usage = base.usage;
  for (let i = first; i < answer.steps.length; i++) {
    steps.push(answer.steps[i]);
    for (const column of SCALAR_COLUMNS) scalars[column].push(numberOrNaN(answer[column]?.[i]));
    pushLevels(perplexity, answer.perplexity?.[i], steps.length);
    pushLevels(usage, answer.usage?.[i], steps.length);
  }

  let validation = base.validation;
  const lastValidation = validation.length ? validation[validation.length - 1].step : -Infinity;
  const newer = answer.validation.filter((point) => point.step > lastValidation);
  if (newer.length) validation = [...validation, ...newer];

  if (first >= answer.steps.length && validation === base.validation) return base;
  return { runId: base.runId, steps, scalars, perplexity, usage, validation };
}

/** Appends one step's per-level values, growing (NaN-filled) level arrays as levels appear. */
function pushLevels(columns: number[][], values: (number | null)[] | null | undefined, length: number): void {
  const levels = Math.max(columns.length, values?.length ?? 0);
  for (let level = 0; level < levels; level++) {
    if (!columns[level]) columns[level] = new Array<number>(length - 1).fill(Number.NaN);
    columns[level].push(numberOrNaN(values?.[level]));
  }
}

function numberOrNaN(value: number | null | undefined): number {
  return typeof value === "number" && Number.isFinite(value) ? value : Number.NaN;
}

// ---- the loss chart's lines --------------------------------------------------------------------

export interface SeriesLine {
  id: string;
  label: string;
  /** A CSS colour. */
  color: string;
  xs: number[];
  ys: number[];
  dashed?: boolean;
  /** Draw a dot at every point (sparse series such as validation). */
  dots?: boolean;
}

/**
 * The loss chart's lines: train loss, validation loss, commitment loss (green, dashed), and the
 * Sinkhorn loss when the run weights it. Lines without a finite value are left out.
 */
export function lossLines(series: CodebookSeries, withWasserstein: boolean): SeriesLine[] {
  const lines: SeriesLine[] = [
    { id: "train", label: "train loss", color: "var(--cb-train)", xs: series.steps, ys: series.scalars.loss },
    {
      id: "validation",
      label: "validation loss",
      color: "var(--cb-val)",
      xs: series.validation.map((p) => p.step),
      ys: series.validation.map((p) => p.loss),
      dots: true,
    },
    {
      id: "commitment",
      label: "commitment loss",
      color: "var(--cb-commit)",
      xs: series.steps,
      ys: series.scalars.commitment,
      dashed: true,
    },
  ];
  if (withWasserstein) {
    lines.push({
      id: "wasserstein",
      label: "Sinkhorn loss",
      color: "var(--cb-wass)",
      xs: series.steps,
      ys: series.scalars.wasserstein,
      dashed: true,
    });
  }
  return lines.filter((line) => line.ys.some((y) => Number.isFinite(y)));
}

/** Train (per batch) and validation usage of one level, for the usage-over-time chart. */
export function usageLines(series: CodebookSeries, level: number): SeriesLine[] {
  return [
    {
      id: "train-usage",
      label: `L${level + 1} train (per batch)`,
      color: "var(--cb-train)",
      xs: series.steps,
      ys: series.usage[level] ?? [],
    },
    {
      id: "val-usage",
      label: `L${level + 1} validation`,
      color: "var(--cb-val)",
      xs: series.validation.map((p) => p.step),
      ys: series.validation.map((p) => p.usage[level] ?? Number.NaN),
      dots: true,
    },
  ].filter((line) => line.ys.length > 0);
}


/** [min, max] of the finite values (positive only when `positive`), or null. */
export function finiteExtent(values: readonly number[], positive = false): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v) || (positive && v <= 0)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : null;
}

/** Revival events grouped by step (one timeline mark per step), in step order. */
export function eventsByStep(events: readonly RevivalEvent[]): { step: number; count: number; levels: number[] }[] {
  const byStep = new Map<number, { step: number; count: number; levels: Set<number> }>();
  for (const event of events) {
    const entry = byStep.get(event.step) ?? { step: event.step, count: 0, levels: new Set<number>() };
    entry.count++;
    entry.levels.add(event.level);
    byStep.set(event.step, entry);
  }
  return [...byStep.values()]
    .sort((a, b) => a.step - b.step)
    .map((e) => ({ step: e.step, count: e.count, levels: [...e.levels].sort((a, b) => a - b) }));
}
