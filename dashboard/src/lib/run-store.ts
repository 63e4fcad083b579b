// The free run, as the runs page and the codebook page both see it: the trainer's current run of
// any recipe (its state streamed by server-sent events from /runs/events), the control calls
// (start, pause, step, resume, stop) with one busy flag, and the error banner's last failure.
// A page adds what it derives from the run (series, forces, codebook health …) in its own module
// with `attachRunPage`, and guards its own requests with `runSequence()` tickets, which a new run
// makes stale. Views read these stores and call the verbs below; none of them fetches by itself.
import { atom, computed, onMount } from "nanostores";

import { ApiError, type EventStreamStatus, fetchJSON, openEventStream, postJSON } from "./api";
import type { RunState, RunStateActive, RunStepsEvent } from "./runs-types";
import { FINAL_STATUSES } from "./runs-types";
import { type Sequence, sequence } from "./sequence";
import { actionError, type ActionError, whileBusy } from "./store-actions";
import { throttledQueue } from "./throttle";

// ---- stores ----------------------------------------------------------------------------------

/** The trainer's current run as it last described it (`GET /runs/current`); null until it answers. */
export const $runState = atom<RunState | null>(null);

/** The event stream's connection. */
export const $runStream = atom<EventStreamStatus>("connecting");

export type RunAction = "start" | "pause" | "resume" | "step" | "stop" | "rewind";

/** The control call in flight. */
export interface RunBusy {
  action: RunAction;
  startedAt: number;
}

export const $runBusy = atom<RunBusy | null>(null);

/** The last failed call, for the error banner; cleared by `dismissRunError()`. */
export type RunError = ActionError;

export const $runError = atom<RunError | null>(null);

/** The run, once one was started (also after it ended), of any recipe. */
export const $run = computed($runState, (state): RunStateActive | null => (state?.active ? state : null));

/** True while the run trains or waits paused. */
export const $runLive = computed($run, (run) => run !== null && !FINAL_STATUSES.includes(run.status));

/** The newest step the `steps` events named, and their run. */
const $streamedStep = atom<{ runId: string; step: number } | null>(null);

/** The newest step known of the run: its state's, or a newer one from the stream or a Step. */
export const $runStep = computed([$run, $streamedStep], (run, streamed) => {
  if (!run) return 0;
  return Math.max(run.step, streamed?.runId === run.run_id ? streamed.step : 0);
});

// ---- what a page adds ------------------------------------------------------------------------

/** A page's part of the run's lifecycle (registered once, when its store module loads). */
export interface RunPage {
  /** After every state answer was taken; `previous` is the run before it (null when none). */
  onState?: (state: RunState, previous: RunStateActive | null) => void;
  /** After every `steps` event (of any run: the state may not name it yet). */
  onSteps?: (event: RunStepsEvent) => void;
  /** When the first view reads the run (in the browser only); returns what undoes it. */
  onMount?: () => (() => void) | void;
}

const pages: RunPage[] = [];

export function attachRunPage(page: RunPage): void {
  pages.push(page);
}

const runSequences: Sequence[] = [];

/**
 * Tickets for one kind of request about the run (see sequence.ts): an answer counts only while
 * its ticket is the newest. A new run makes every ticket stale.
 */
export function runSequence(): Sequence {
  const seq = sequence();
  runSequences.push(seq);
  return seq;
}

/** True while `runId` is the run shown (an answer about another run is dropped). */
export function isCurrentRun(runId: string | null | undefined): boolean {
  return runId != null && $run.get()?.run_id === runId;
}

// ---- actions ---------------------------------------------------------------------------------

/**
 * Runs one control call with the busy flag held (nothing happens while another is in flight);
 * its answer is the run's new state. A failure goes to the banner and the state is read again.
 */
export async function runControl(action: RunAction, label: string, call: () => Promise<RunState>): Promise<void> {
  await whileBusy($runBusy, { action, startedAt: Date.now() }, async () => {
    try {
      applyRunState(await call());
      $runError.set(null);
    } catch (err) {
      showRunError(label, err);
      await refreshRunState(true);
    }
  });
}

/** Pauses at the next step boundary. */
export function pauseRun(): Promise<void> {
  return runControl("pause", "Pause", () => postJSON<RunState>("/debug/pause", {}));
}

/** Back to full speed. */
export function resumeRun(): Promise<void> {
  return runControl("resume", "Resume", () => postJSON<RunState>("/debug/resume", {}));
}

/** Ends the run after its current step, also while paused. */
export function stopRun(): Promise<void> {
  return runControl("stop", "Stop", () => postJSON<RunState>("/runs/stop", {}, { timeoutMs: 60_000 }));
}

/** Time limit of a Step call: the steps themselves plus a minute. */
export function stepTimeoutMs(n: number): number {
  return 60_000 + n * 1_000;
}

/**
 * Advances a paused run by `n` steps: `take` makes the call (and shows what it answered) and
 * resolves to the step reached, which the run's state then stands at. Answers false when nothing
 * was tried (no paused run, or another call in flight); true after a try, also a failed one.
 */
export async function advanceRun(n: number, take: (run: RunStateActive) => Promise<number>): Promise<boolean> {
  const run = $run.get();
  if (!run || run.status !== "paused") return false;
  return whileBusy($runBusy, { action: "step", startedAt: Date.now() }, async () => {
    try {
      const step = await take(run);
      const current = $run.get();
      // A stepped step is kept in full.
      if (current && current.run_id === run.run_id && step > current.step) {
        $runState.set({ ...current, step, last_full_step: step });
      }
      $runError.set(null);
    } catch (err) {
      showRunError(n === 1 ? "Step" : `Step ×${n}`, err);
      await refreshRunState(true);
    }
  });
}

export function dismissRunError(): void {
  $runError.set(null);
}

/** Re-reads `GET /runs/current`. `quiet`: a failure does not replace an error already shown. */
export async function refreshRunState(quiet = false): Promise<void> {
  try {
    applyRunState(await fetchJSON<RunState>("/runs/current"));
  } catch (err) {
    showRunError("Read the run state", err, quiet);
  }
}

/**
 * Shows a failed call in the banner. `quiet` (a background refresh): not over an error already
 * shown, and not when the trainer is unreachable (TrainerBanner says so).
 */
export function showRunError(action: string, err: unknown, quiet = false): void {
  if (quiet && $runError.get()) return;
  if (quiet && err instanceof ApiError && err.unreachable) return;
  $runError.set(actionError(action, err));
}

/**
 * Takes a state answer (a control call's, the stream's, a page's own): a new run makes every
 * ticket of `runSequence()` stale, then each page brings its views along. Within one run an answer
 * read before the one shown (a lower `version`: e.g. a slow Resume answer arriving after the stream
 * said a breakpoint paused the run) is dropped, and the step never goes back.
 */
export function applyRunState(state: RunState): void {
  const previous = $run.get();
  const same = previous !== null && state.active && state.run_id === previous.run_id;
  if (same && state.version < previous.version) return;
  $runState.set(same && previous.step > state.step ? { ...state, step: previous.step } : state);
  if (state.active && !same) for (const seq of runSequences) seq.invalidate();
  for (const page of pages) page.onState?.(state, previous);
}

/**
 * Takes the answer of a rewind: unlike any other answer, the run's step goes back (to the step it
 * went back to), and so does the newest step the stream named.
 */
export function applyRewoundRunState(state: RunState): void {
  const previous = $run.get();
  $runState.set(state);
  if (state.active) $streamedStep.set({ runId: state.run_id, step: state.step });
  for (const page of pages) page.onState?.(state, previous);
}

// ---- the event stream ------------------------------------------------------------------------

/**
 * `steps` events are applied at most this often (ms), leading and trailing: the stream sends
 * four a second, and each application redraws the page. On a small machine the browser's drawing
 * takes CPU from the training run it shows; two updates a second still read as live.
 */
export const STEPS_APPLY_MS = 500;

const stepsQueue = throttledQueue(applySteps, STEPS_APPLY_MS);

function onState(data: unknown): void {
  const state = data as RunState;
  if (!state || typeof state.active !== "boolean") return;
  stepsQueue.flush(); // in the stream's order: the steps sent before this state first
  applyRunState(state);
}

function onSteps(data: unknown): void {
  const event = data as RunStepsEvent;
  if (!event || typeof event.run_id !== "string" || !Array.isArray(event.steps)) return;
  stepsQueue.push(event);
}

function applySteps(event: RunStepsEvent): void {
  const newest = event.steps.length ? event.steps[event.steps.length - 1] : (event.rewound_to ?? 0);
  const streamed = $streamedStep.get();
  // After a rewind the newest step goes back too.
  if (streamed?.runId !== event.run_id || newest > streamed.step || event.rewound_to !== undefined) {
    $streamedStep.set({ runId: event.run_id, step: newest });
  }
  for (const page of pages) page.onSteps?.(event);
}

onMount($runState, () => {
  // Astro renders islands once at build time; no requests or streams there (see health-store.ts).
  if (typeof window === "undefined") return;
  const close = openEventStream("/runs/events", {
    events: { state: onState, steps: onSteps },
    onStatus: (status) => $runStream.set(status),
  });
  const unmount = pages.map((page) => page.onMount?.());
  return () => {
    close();
    stepsQueue.cancel();
    for (const undo of unmount) undo?.();
  };
});
