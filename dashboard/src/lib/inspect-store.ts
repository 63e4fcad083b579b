// The step inspector: the session's state, the history of every step so far (its scalars, fetched
// in increments), and the full data of the step on screen (a decoded binary frame). Views read
// these stores and call the verbs below; none of them fetches by itself.
import { atom, computed, onMount } from "nanostores";

import { ApiError, fetchFrame, fetchJSON, postJSON } from "./api";
import { DEFAULT_BCL_DIM } from "./generated/limits";
import type { StepTensorKey } from "./generated/tensor-keys";
import { $trainerConnection } from "./health-store";
import {
  appendHistory,
  EMPTY_HISTORY,
  historyQuery,
  type InspectHistory,
  mergeFailures,
  ROW_HISTORY_KEYS,
  SCALAR_HISTORY_KEYS,
} from "./inspect-history";
import { actionError, type ActionError, errorDetail, whileBusy } from "./store-actions";
import type {
  FailedStep,
  HistoryValue,
  InspectHistoryResponse,
  InspectSetupRequest,
  InspectState,
  InspectStateActive,
  InspectStepRequest,
  ModelOwner,
} from "./inspect-types";
import { blockingOwner, canRelease } from "./model-owner";
import { decodeFrame, type StepFrame } from "./tensor-frame";

export type { InspectHistory } from "./inspect-history";

/** The condition the picker offers first when the trainer has no session. */
export const DEFAULT_CONDITION = "bcl-med";
/** How often the page re-reads the state while another owner holds the model (to see it end). */
export const OWNER_POLL_MS = 4_000;
/** The step counts offered as buttons; the API takes 1..MAX_STEPS_PER_CALL. */
export const STEP_CHOICES = [1, 10, 50] as const;
export { MAX_STEPS_PER_CALL } from "./generated/limits";

// ---- stores ----------------------------------------------------------------------------------

/** `GET /inspect/state`; null until the trainer first answers. */
export const $inspectState = atom<InspectState | null>(null);

/** Every step of the session so far, its scalar keys only (see `SCALAR_HISTORY_KEYS`). */
export const $inspectHistory = atom<InspectHistory>(EMPTY_HISTORY);

/**
 * The vector history values (digit labels) of the step on screen when its full data is gone,
 * asked for that one step; `values[key]` is null where the trainer no longer keeps that row.
 */
export interface InspectStepRow {
  sessionId: string;
  step: number;
  values: Partial<Record<StepTensorKey, HistoryValue>>;
  /** The first step whose vector values are still kept. */
  vectorsFrom: number | null;
}

export const $inspectStepRow = atom<InspectStepRow | null>(null);

/** The full data of the step on screen, when the trainer still holds it (or null). */
export const $inspectFrame = atom<StepFrame | null>(null);

export type SelectionStatus = "none" | "loading" | "ready" | "evicted" | "error";

/** Which step is on screen and whether its full data is here. */
export interface InspectSelection {
  step: number | null;
  status: SelectionStatus;
  /** Why the full data is missing ("full data is held for steps 6..55"). */
  detail: string | null;
}

export const $inspectSelection = atom<InspectSelection>({ step: null, status: "none", detail: null });

/**
 * The condition a session is set up with when there is none: the picker's choice (the page does
 * not set up a session by itself; the first Step or "Set up" does). With a session, the picker
 * shows the session's condition and changing it sets up a fresh one.
 */
export const $inspectPicked = atom<string>(DEFAULT_CONDITION);

/**
 * The width D a session is set up with (the recipe option `dim`); with a session, the width field
 * shows the session's and committing another sets up a fresh one.
 */
export const $inspectWidth = atom<number>(DEFAULT_BCL_DIM);

/** The action that changes the session (setup, step, teardown), while it runs. */
export interface InspectBusy {
  action: "connect" | "setup" | "step" | "teardown" | "release" | "rewind";
  /** Steps asked for (action "step"). */
  n?: number;
  /** Condition being set up (action "setup"). */
  condition?: string;
  startedAt: number;
}

export const $inspectBusy = atom<InspectBusy | null>(null);

/** The last failed call, for the error banner; cleared by `dismissInspectError()`. */
export type InspectError = ActionError;

export const $inspectError = atom<InspectError | null>(null);

/** The active session, or null. */
export const $inspectSession = computed($inspectState, (state): InspectStateActive | null =>
  state?.active ? state : null,
);

/**
 * Who else holds the model (a free run) while this page has no session, or null. The page shows
 * it with a way to release it, instead of a bare 409 after the next Step.
 */
export const $inspectOwner = computed($inspectState, (state): ModelOwner | null => blockingOwner(state));

/** Steps completed in the session (0 with none). */
export const $inspectLatestStep = computed($inspectSession, (session) => session?.step ?? 0);

/** Failed step attempts of the session, from the history and the state (whichever is newer). */
export const $inspectFailures = computed([$inspectSession, $inspectHistory], (session, history): FailedStep[] =>
  session ? mergeFailures(history.sessionId === session.session_id ? history.failed : [], session.failed_steps ?? []) : [],
);

// ---- reading helpers -------------------------------------------------------------------------

/** Index of `step` in the history, or -1. Steps are increasing, so a binary search. */
export function historyIndex(history: InspectHistory, step: number): number {
  const { steps } = history;
  let lo = 0;
  let hi = steps.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (steps[mid] === step) return mid;
    if (steps[mid] < step) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** The history value of `key` at `step` (undefined when the step or key is not in the history). */
export function historyValue(history: InspectHistory, key: StepTensorKey, step: number): HistoryValue | undefined {
  const i = historyIndex(history, step);
  return i < 0 ? undefined : history.columns[key]?.[i];
}

/** Whether the trainer still holds the full data of `step`, as far as the last state says. */
export function isRetained(state: InspectState | null, step: number): boolean {
  const retained = state?.active ? state.retained : null;
  return retained !== null && step >= retained[0] && step <= retained[1];
}

export function stepLabel(n: number): string {
  return n === 1 ? "Step" : `Step ×${n}`;
}

// ---- actions ---------------------------------------------------------------------------------

/**
 * Reads the state and shows it: the session with its history and latest step, or that there is
 * none (and who holds the model, if someone does). Never sets up a session: the model stays free
 * for a free run until the user steps or sets up here.
 */
export async function initInspector(): Promise<void> {
  if ($inspectBusy.get()) return;
  $inspectBusy.set({ action: "connect", startedAt: Date.now() });
  let state: InspectState;
  try {
    state = await fetchJSON<InspectState>("/inspect/state");
  } catch (err) {
    // An unreachable trainer already has its own banner (TrainerBanner); the state is read once
    // it answers (see onMount below).
    if (!(err instanceof ApiError && err.unreachable)) fail("Read the inspector state", err);
    $inspectBusy.set(null);
    return;
  }
  $inspectBusy.set(null);
  $inspectError.set(null); // e.g. "trainer unreachable" from an attempt before this one
  applyState(state);
  if (!state.active) return;
  await refreshHistory();
  if (state.step > 0) await loadStep(state.step);
}

/**
 * The picker's choice: with a session, a fresh session of `condition` replaces it; without one it
 * is only picked (the next Step or "Set up" uses it).
 */
export async function pickCondition(condition: string): Promise<void> {
  if ($inspectBusy.get()) return;
  $inspectPicked.set(condition);
  if ($inspectSession.get()) await setupInspector(condition);
}

/** The width field's choice: with a session of another width, a fresh session of `dim` replaces it. */
export async function pickWidth(dim: number): Promise<void> {
  if ($inspectBusy.get()) return;
  $inspectWidth.set(dim);
  const session = $inspectSession.get();
  if (session && session.options?.dim !== dim) await setupInspector(session.condition);
}

/** Starts a fresh session (step 0) with `condition` and the picked width, replacing the current one. */
export async function setupInspector(condition: string = $inspectPicked.get(), seed = 0): Promise<void> {
  await whileBusy($inspectBusy, { action: "setup", condition, startedAt: Date.now() }, async () => {
    cancelLoad();
    try {
      const body: InspectSetupRequest = { condition, seed, options: { dim: $inspectWidth.get() } };
      const state = await postJSON<InspectState>("/inspect/setup", body, { timeoutMs: 60_000 });
      applyState(state);
    } catch (err) {
      await failOrShowOwner(`Set up ${condition}`, err);
    }
  });
}

/**
 * Runs `n` steps and shows the last one; the history and state follow. Without a session, sets
 * one up first with the picked condition.
 */
export async function stepInspector(n: number): Promise<void> {
  if ($inspectBusy.get()) return;
  if (!$inspectSession.get()) {
    await setupInspector($inspectPicked.get());
    if (!$inspectSession.get()) return; // the setup failed; its banner says why
  }
  await whileBusy($inspectBusy, { action: "step", n, startedAt: Date.now() }, async () => {
    cancelLoad();
    try {
      const body: InspectStepRequest = { n };
      // A long run on a slow machine can take a while; it is still bounded so a hung trainer ends.
      const buffer = await fetchFrame("/inspect/step", { method: "POST", body, timeoutMs: 60_000 + n * 1_000 });
      const frame = decodeFrame(buffer);
      if (frame.header.session_id !== $inspectSession.get()?.session_id) {
        await refreshState(); // someone else set up a new session meanwhile
      }
      cancelLoad(); // a past step clicked while this ran must not replace the newest one
      const session = $inspectSession.get();
      if (session && session.session_id === frame.header.session_id && frame.step > session.step) {
        // Ahead of the state refresh below, so the counter and slider never lag the frame.
        const first = session.retained ? session.retained[0] : frame.step;
        $inspectState.set({ ...session, step: frame.step, retained: [first, frame.step] });
      }
      $inspectFrame.set(frame);
      $inspectSelection.set({ step: frame.step, status: "ready", detail: null });
    } catch (err) {
      await failOrShowOwner(stepLabel(n), err);
    } finally {
      // Even a failed run may have finished some steps: bring the state, then the history, up to
      // date (in that order: with the session gone there is no history to ask for).
      await refreshState(true);
      await refreshHistory(true);
    }
  });
}

let loadController: AbortController | null = null;

function cancelLoad(): void {
  loadController?.abort();
  loadController = null;
}

/**
 * Shows step `k`: its full data when the trainer still holds it, else (404) its history values
 * and the trainer's reason. A newer call (or a step) supersedes an older one still loading.
 */
export async function loadStep(k: number): Promise<void> {
  const session = $inspectSession.get();
  if (!session || k < 1 || k > session.step) return;
  cancelLoad();
  if ($inspectFrame.get()?.step === k && $inspectFrame.get()?.header.session_id === session.session_id) {
    $inspectSelection.set({ step: k, status: "ready", detail: null });
    return;
  }
  const controller = new AbortController();
  loadController = controller;
  $inspectSelection.set({ step: k, status: "loading", detail: null });
  try {
    const frame = decodeFrame(await fetchFrame(`/inspect/step/${k}`, { signal: controller.signal }));
    if (controller.signal.aborted) return;
    $inspectFrame.set(frame);
    $inspectSelection.set({ step: k, status: "ready", detail: null });
  } catch (err) {
    if (controller.signal.aborted) return;
    if (err instanceof ApiError && err.status === 404) {
      $inspectSelection.set({ step: k, status: "evicted", detail: err.detail });
      void refreshState(); // the retained range moved on
      void loadStepRow(session.session_id, k, controller.signal);
    } else {
      $inspectSelection.set({ step: k, status: "error", detail: errorDetail(err) });
      fail(`Load step ${k}`, err);
    }
  } finally {
    if (loadController === controller) loadController = null;
  }
}

/** The vector history values of step `k` (`ROW_HISTORY_KEYS`) for a step whose full data is gone. */
async function loadStepRow(sessionId: string, k: number, signal: AbortSignal): Promise<void> {
  if ($inspectStepRow.get()?.step === k && $inspectStepRow.get()?.sessionId === sessionId) return;
  try {
    const answer = await fetchJSON<InspectHistoryResponse>(`/inspect/history?${historyQuery(k, ROW_HISTORY_KEYS, 1)}`, { signal });
    if (signal.aborted || answer.steps[0] !== k || $inspectSession.get()?.session_id !== sessionId) return;
    const values: InspectStepRow["values"] = {};
    for (const [key, column] of Object.entries(answer.columns) as [StepTensorKey, HistoryValue[]][]) values[key] = column[0];
    $inspectStepRow.set({ sessionId, step: k, values, vectorsFrom: answer.vectors_from ?? null });
  } catch {
    // The step shows without its labels; the evicted note already says why its tensors are gone.
  }
}

/** Ends the session and frees its memory on the trainer. */
export async function teardownInspector(): Promise<void> {
  await whileBusy($inspectBusy, { action: "teardown", startedAt: Date.now() }, async () => {
    cancelLoad();
    try {
      applyState(await postJSON<InspectState>("/inspect/teardown", {}));
    } catch (err) {
      fail("Teardown", err);
      await refreshState(true);
    }
  });
}

/**
 * Frees the model from its other owner: a free run is stopped (`POST /runs/stop`; a finished run
 * gives the model back and stays browsable on the runs page). Then the state is read again. The
 * caller asks the user first.
 */
export async function releaseModel(): Promise<void> {
  const owner = $inspectOwner.get();
  if (!owner || !canRelease(owner)) return;
  await whileBusy($inspectBusy, { action: "release", startedAt: Date.now() }, async () => {
    try {
      await postJSON("/runs/stop", {}, { timeoutMs: 60_000 });
      $inspectError.set(null);
    } catch (err) {
      // 409: the run ended by itself meanwhile; the state read below shows the model free.
      if (!(err instanceof ApiError && err.status === 409)) fail("Release the model", err);
    }
    await refreshState(true);
  });
}

export function dismissInspectError(): void {
  $inspectError.set(null);
}

/** Re-reads `GET /inspect/state`. `quiet`: a failure does not replace an error already shown. */
export async function refreshState(quiet = false): Promise<void> {
  try {
    applyState(await fetchJSON<InspectState>("/inspect/state"));
  } catch (err) {
    fail("Read the inspector state", err, quiet);
  }
}

let historyChain: Promise<void> = Promise.resolve();

/**
 * Fetches the steps after the last one known (`since = last + 1`) and appends them, page after
 * page while the trainer says there are `more`. `quiet`: a failure does not replace an error
 * already shown.
 */
export function refreshHistory(quiet = false): Promise<void> {
  // One request at a time, so two callers never append the same steps twice.
  const next = () => fetchHistoryPages(quiet);
  historyChain = historyChain.then(next, next);
  return historyChain;
}

async function fetchHistoryPages(quiet: boolean): Promise<void> {
  const session = $inspectSession.get();
  if (!session) return;
  for (;;) {
    const known = $inspectHistory.get();
    const current = known.sessionId === session.session_id ? known : { ...EMPTY_HISTORY, sessionId: session.session_id };
    // Not skipped when `since` passes the state's step: the state may be older than the history.
    const since = (current.steps.at(-1) ?? 0) + 1;
    let answer: InspectHistoryResponse;
    try {
      answer = await fetchJSON<InspectHistoryResponse>(`/inspect/history?${historyQuery(since, SCALAR_HISTORY_KEYS)}`);
    } catch (err) {
      fail("Read the step history", err, quiet);
      return;
    }
    // The session may have changed while the request was out; then these steps are not ours.
    if ($inspectSession.get()?.session_id !== session.session_id) return;
    const latest = $inspectHistory.get();
    const base = latest.sessionId === session.session_id ? latest : current;
    const next = appendHistory(base, answer);
    if (next !== latest) $inspectHistory.set(next);
    if (!answer.more || answer.steps.length === 0) return;
  }
}

/** Takes a state answer; a different (or no) session clears what belonged to the old one. */
function applyState(state: InspectState): void {
  const previous = $inspectSession.get();
  $inspectState.set(state);
  // The picker follows the session (and keeps its condition after a teardown).
  if (state.active) $inspectPicked.set(state.condition);
  else if (!state.conditions.includes($inspectPicked.get())) {
    $inspectPicked.set(state.conditions.includes(DEFAULT_CONDITION) ? DEFAULT_CONDITION : state.default_condition);
  }
  // The width field follows the session too.
  if (state.active && typeof state.options?.dim === "number") $inspectWidth.set(state.options.dim);
  watchOwner(blockingOwner(state) !== null);
  const sessionId = state.active ? state.session_id : null;
  if (previous?.session_id === sessionId) return;
  cancelLoad();
  $inspectHistory.set({ ...EMPTY_HISTORY, sessionId });
  $inspectFrame.set(null);
  $inspectStepRow.set(null);
  $inspectSelection.set({ step: null, status: "none", detail: null });
}

let ownerPoll: ReturnType<typeof setInterval> | null = null;

/** While another owner holds the model, re-read the state now and then: the banner goes once it ends. */
function watchOwner(on: boolean): void {
  if (on && !ownerPoll && typeof window !== "undefined") {
    ownerPoll = setInterval(() => {
      if ($inspectBusy.get() || document.visibilityState !== "visible") return;
      // Quietly: an unreachable trainer has its own banner, and the next tick tries again.
      fetchJSON<InspectState>("/inspect/state").then(
        (state) => {
          if (!$inspectBusy.get()) applyState(state);
        },
        () => undefined,
      );
    }, OWNER_POLL_MS);
  } else if (!on && ownerPoll) {
    clearInterval(ownerPoll);
    ownerPoll = null;
  }
}

function fail(action: string, err: unknown, quiet = false): void {
  if (quiet && $inspectError.get()) return;
  $inspectError.set(actionError(action, err));
}

/**
 * A failed setup or step: a 409 because another owner holds the model shows the owner banner
 * (from the state read again here) instead of an error; anything else is an error.
 */
async function failOrShowOwner(action: string, err: unknown): Promise<void> {
  const conflict = err instanceof ApiError && err.status === 409;
  if (conflict) await refreshState(true);
  if (conflict && $inspectOwner.get()) {
    $inspectError.set(null);
    return;
  }
  fail(action, err);
  if (!conflict) await refreshState(true);
}

onMount($inspectState, () => {
  // Astro renders islands once at build time; no requests there (see health-store.ts).
  if (typeof window === "undefined") return;
  void initInspector();
  // A trainer that was down when the page opened: read its state once it answers.
  const unlisten = $trainerConnection.listen((connection) => {
    if (connection === "online" && $inspectState.get() === null && !$inspectBusy.get()) void initInspector();
  });
  return () => {
    unlisten();
    watchOwner(false);
  };
});
