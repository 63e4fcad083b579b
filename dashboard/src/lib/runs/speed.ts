// The live steps/s of a running run: the step seen at a few recent moments, and the rate over the
// last few seconds of them (the trainer's own `steps_per_second` until they span half a second).

/** The run's step as first seen at wall-clock time `t` (ms). */
export interface StepSample {
  t: number;
  step: number;
}

/** The rate is measured over about this long. */
export const SPEED_WINDOW_MS = 3_000;
/** Below this span (ms) the samples say too little; the trainer's rate is shown instead. */
export const MIN_SPAN_MS = 500;
/** Steps that stopped arriving this long ago (ms) mean a stalled run: its rate then falls with the clock. */
export const STALL_MS = 1_500;

/** The samples within the window before `now` (the newest two always stay). */
export function recentSamples(samples: readonly StepSample[], now: number): readonly StepSample[] {
  let first = 0;
  while (samples.length - first > 2 && now - samples[first].t > SPEED_WINDOW_MS) first++;
  return first ? samples.slice(first) : samples;
}

/** `samples` with `step` seen at `t` added when it differs from the newest, and the old ones dropped. */
export function addSample(samples: readonly StepSample[], t: number, step: number): readonly StepSample[] {
  const last = samples[samples.length - 1];
  if (last && last.step === step) return samples;
  return recentSamples([...samples, { t, step }], t);
}

/** Steps per second from the oldest recent sample to `now`; `fallback` while they span under 0.5 s. */
export function stepRate(samples: readonly StepSample[], step: number, now: number, fallback: number): number {
  const recent = recentSamples(samples, now);
  const first = recent[0];
  if (!first) return fallback;
  const span = now - first.t;
  return span > MIN_SPAN_MS ? (step - first.step) / (span / 1000) : fallback;
}

/**
 * The moment the rate is measured up to: the newest sample's while steps stream (the clock's tick
 * then changes nothing on screen, and an unchanged page is not painted again), the clock's once
 * they have stopped for `STALL_MS` (a stalled run's rate falls).
 */
export function rateTime(samples: readonly StepSample[], now: number): number {
  const newest = samples[samples.length - 1];
  return newest && now - newest.t < STALL_MS ? newest.t : now;
}
