// The History chart's lines: one run's recorded scalar as x (step, or seconds since the run's first
// step) and y, smoothed or not. Pure, so the page and the tests share it.
import { emaSmooth } from "./runs/line";
import type { ArchiveHistory } from "./history-types";

export type HistoryAxis = "step" | "wall";

/** A run's series of one key, as typed arrays (null → NaN, a gap in the line). */
export interface HistorySeries {
  xs: Float64Array;
  ys: Float64Array;
  length: number;
}

/**
 * The series of `key` from a history answer: x is the step number, or (axis "wall") the seconds
 * since the run's first recorded step, so runs started at different times overlay from 0.
 * `smoothing` (0..0.99) is the exponential moving average of the runs page's loss chart.
 */
export function historySeries(history: ArchiveHistory, key: string, axis: HistoryAxis, smoothing = 0): HistorySeries | null {
  const column = history.columns[key];
  if (!column) return null;
  const length = Math.min(column.length, history.steps.length);
  const xs = new Float64Array(length);
  const raw = new Float64Array(length);
  const start = history.wall.length ? history.wall[0] : 0;
  for (let i = 0; i < length; i++) {
    xs[i] = axis === "wall" ? (history.wall[i] ?? start) - start : history.steps[i];
    const v = column[i];
    raw[i] = v === null ? Number.NaN : v;
  }
  const ys = smoothing > 0 ? emaSmooth(raw, length, smoothing) : raw;
  return { xs, ys, length };
}

/** The keys every given history recorded, sorted, with "loss" first when there. */
export function commonKeys(histories: readonly ArchiveHistory[]): string[] {
  if (!histories.length) return [];
  const shared = histories.slice(1).reduce((keys, h) => keys.filter((k) => h.keys.includes(k)), [...histories[0].keys]);
  return shared.sort((a, b) => (a === "loss" ? -1 : b === "loss" ? 1 : a.localeCompare(b)));
}

/** "1:05" or "1:02:05" for a run's duration in seconds; "–" when unknown. */
export function formatRunDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "–";
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return `${h ? `${h}:` : ""}${mm}:${String(s).padStart(2, "0")}`;
}

/** The options a run was started with, as "name=value" pairs, for the table. */
export function formatOptions(options: Record<string, unknown>): string {
  return Object.entries(options)
    .map(([name, value]) => `${name}=${typeof value === "object" ? JSON.stringify(value) : String(value)}`)
    .join(" ");
}
