// The inspector's loss timeline as data: which steps its zoom window shows, how a drag, a wheel
// turn or a pan moves that window, and where the markers of failed step attempts go.
import type { FailedStep } from "./inspect-types";

/** A range of steps on the x axis, continuous: step k is drawn at x = k, the ends are inclusive. */
export interface StepWindow {
  lo: number;
  hi: number;
}

/** The fewest steps a zoom window spans (a closer look has nothing more to show). */
export const MIN_WINDOW_STEPS = 8;

/** Everything from `first` to `last`, with half a step of room at both ends. */
export function fullWindow(first: number, last: number): StepWindow {
  return { lo: first - 0.5, hi: last + 0.5 };
}

/**
 * `window` widened to at least `minSpan` steps (about its middle) and moved inside `full`; null
 * when it covers all of `full` (no zoom).
 */
export function clampWindow(window: StepWindow, full: StepWindow, minSpan = MIN_WINDOW_STEPS): StepWindow | null {
  const fullSpan = full.hi - full.lo;
  let { lo, hi } = window;
  const least = Math.min(minSpan, fullSpan);
  if (hi - lo < least) {
    const mid = (lo + hi) / 2;
    lo = mid - least / 2;
    hi = mid + least / 2;
  }
  const span = hi - lo;
  if (span >= fullSpan) return null;
  if (lo < full.lo) [lo, hi] = [full.lo, full.lo + span];
  if (hi > full.hi) [lo, hi] = [full.hi - span, full.hi];
  return { lo, hi };
}

/** The window scaled by `factor` (< 1 zooms in) around the step `at`, which stays where it is. */
export function zoomAround(window: StepWindow, full: StepWindow, at: number, factor: number): StepWindow | null {
  const span = window.hi - window.lo;
  const next = Math.max(span * factor, Math.min(MIN_WINDOW_STEPS, full.hi - full.lo));
  const f = next / span;
  return clampWindow({ lo: at - (at - window.lo) * f, hi: at + (window.hi - at) * f }, full);
}

/** The window shifted by `delta` steps, kept inside `full`. */
export function panBy(window: StepWindow, full: StepWindow, delta: number): StepWindow | null {
  return clampWindow({ lo: window.lo + delta, hi: window.hi + delta }, full, 0);
}

/** The window a drag between the steps `a` and `b` selects (either order). */
export function dragWindow(a: number, b: number, full: StepWindow): StepWindow | null {
  return clampWindow({ lo: Math.min(a, b), hi: Math.max(a, b) }, full, MIN_WINDOW_STEPS);
}

/**
 * The zoom window `view` inside `full` (which only grows, e.g. while a run streams steps): the
 * part of it inside `full`, or `full` itself when there is no zoom or the window covers it all.
 */
export function zoomedWindow(view: StepWindow | null, full: StepWindow | null): StepWindow | null {
  if (!full || !view) return full;
  const lo = Math.max(view.lo, full.lo);
  const hi = Math.min(view.hi, full.hi);
  return hi > lo && (lo > full.lo || hi < full.hi) ? { lo, hi } : full;
}

/** First index of increasing `values` (the first `length` of them) that is >= `target` (length when none is). */
export function lowerBound(values: ArrayLike<number>, target: number, length = values.length): number {
  let lo = 0;
  let hi = Math.min(length, values.length);
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid] < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** [start, end): the indices of the increasing integer `steps` (the first `length`) that lie inside `window`. */
export function visibleRange(steps: ArrayLike<number>, window: StepWindow, length = steps.length): [number, number] {
  return [lowerBound(steps, window.lo, length), lowerBound(steps, Math.floor(window.hi) + 1, length)];
}

/** One marker on the timeline for the failed attempts at one step, or at steps a few pixels apart. */
export interface FailureMarker {
  /** The first and last step of the attempts it stands for. */
  first: number;
  last: number;
  /** Where it is drawn (the x of `first`). */
  x: number;
  attempts: FailedStep[];
  /** One line per attempt (the same error at the same step is counted once, "×2"). */
  title: string;
}

/**
 * Markers for the failed attempts that lie inside `window`: attempts at one step make one marker,
 * and markers closer than `minGap` pixels merge into the first of them, so a run of failures
 * stays readable at any zoom. `x` maps a step to its pixel.
 */
export function failureMarkers(
  failed: readonly FailedStep[],
  window: StepWindow,
  x: (step: number) => number,
  minGap = 8,
): FailureMarker[] {
  const inside = failed
    .map((attempt, order) => ({ attempt, order }))
    .filter(({ attempt }) => attempt.step >= window.lo && attempt.step <= window.hi)
    .sort((a, b) => a.attempt.step - b.attempt.step || a.order - b.order)
    .map(({ attempt }) => attempt);
  const markers: FailureMarker[] = [];
  for (const attempt of inside) {
    const px = x(attempt.step);
    const open = markers.at(-1);
    if (open && (attempt.step === open.last || px - open.x < minGap)) {
      open.last = attempt.step;
      open.attempts.push(attempt);
    } else {
      markers.push({ first: attempt.step, last: attempt.step, x: px, attempts: [attempt], title: "" });
    }
  }
  for (const marker of markers) marker.title = failureTitle(marker);
  return markers;
}

function failureTitle(marker: FailureMarker): string {
  const { attempts, first, last } = marker;
  const where = first === last ? `step ${first}` : `steps ${first}–${last}`;
  const head = attempts.length === 1 ? `Step ${first} failed` : `${attempts.length} failed attempts at ${where}`;
  const lines = new Map<string, number>();
  for (const a of attempts) {
    const line = `${first === last ? "" : `step ${a.step}: `}${a.error}: ${a.message}`;
    lines.set(line, (lines.get(line) ?? 0) + 1);
  }
  const body = [...lines].map(([line, n]) => (n > 1 ? `${line} (×${n})` : line));
  return [head, ...body].join("\n");
}

/** A run of consecutive steps whose loss is NaN/±Inf (or missing), as drawn pixels. */
export interface NonFiniteSpan {
  first: number;
  last: number;
  x0: number;
  x1: number;
}

/**
 * The runs of non-finite values among `values[start..end)` (one per step of `steps`), mapped to
 * pixels by `x`; runs closer than `minGap` pixels merge, so a long diverged stretch is one strip
 * however many steps it holds. What the downsampled line cannot show: where the loss is not a
 * number.
 */
export function nonFiniteSpans(
  steps: ArrayLike<number>,
  values: ArrayLike<number | null>,
  start: number,
  end: number,
  x: (step: number) => number,
  minGap = 2,
): NonFiniteSpan[] {
  const spans: NonFiniteSpan[] = [];
  let previousBad = false;
  for (let i = start; i < end; i++) {
    const value = values[i];
    const bad = !(typeof value === "number" && value - value === 0);
    const extends_ = previousBad;
    previousBad = bad;
    if (!bad) continue;
    const step = steps[i];
    const px = x(step);
    const open = spans.at(-1);
    if (open && (extends_ || px - open.x1 < minGap)) {
      open.last = step;
      open.x1 = px;
    } else {
      spans.push({ first: step, last: step, x0: px, x1: px });
    }
  }
  return spans;
}
