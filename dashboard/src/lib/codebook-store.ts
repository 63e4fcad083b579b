// The codebook page's part of the free run (the run itself, its controls and its event stream are
// in run-store.ts): the VQ-VAE run form, and the codebook's figures: health, history, dynamics,
// decoded codes and dead-code replacements. The `steps` events only say "something changed": each
// figure is refetched at most a few times a second. Views read these stores and call the verbs below.
import { atom, computed, map } from "nanostores";

import { ApiError, fetchJSON, postJSON } from "./api";
import { formFromRun } from "./codebook/form";
import { appendHistory, emptySeries, lastStep, nextSince, type CodebookSeries } from "./codebook/series";
import {
  $runState,
  $runStep,
  advanceRun,
  applyRunState,
  attachRunPage,
  isCurrentRun,
  runControl,
  runSequence,
  showRunError,
  stepTimeoutMs,
} from "./run-store";
import { throttle } from "./throttle";
import type {
  CodebookConfig,
  CodebookDecoded,
  CodebookDynamics,
  CodebookEventsResponse,
  CodebookForm,
  CodebookHealth,
  CodebookHistoryResponse,
  CodebookRun,
  CodebookStateResponse,
  RevivalEvent,
  StartCodebookResponse,
} from "./codebook-types";
import { FINAL_STATUSES, type RunState, type RunStateActive, type RunStepsEvent } from "./runs-types";

export const RECIPE = "vqvae";
/** Health, history and events are refetched at most twice a second while a run streams steps. */
export const LIVE_REFRESH_MS = 500;
/** Trajectories and gradient bars: once a second (snapshots come every 50 steps). */
export const DYNAMICS_REFRESH_MS = 1_000;
/** Decoded codes change every 50 steps; asked for at most every 2 s. */
export const DECODED_REFRESH_MS = 2_000;
export const DECODE_EVERY = 50;

/** The form before the trainer answers (the defaults; `/codebook/state` confirms them). */
export const FALLBACK_FORM: CodebookForm = {
  condition: "ema",
  levels: 3,
  commitment: 0.25,
  wasserstein_weight: 0,
  wasserstein_epsilon: 0.05,
  revive: false,
  steps: 2000,
};

// ---- stores ----------------------------------------------------------------------------------

/** `GET /codebook/state`: conditions, defaults, the auto codebook size and its rule. */
export const $codebookSetup = atom<CodebookStateResponse | null>(null);

/** The form's values (kept while a run trains, so the next run starts from them). */
export const $codebookForm = map<CodebookForm>({ ...FALLBACK_FORM });

/** The current VQ-VAE run (also after it ended); null when there is none or another recipe ran. */
export const $codebookRun = computed($runState, (state): CodebookRun | null =>
  state?.active && state.recipe === RECIPE ? state : null,
);

/** The VQ-VAE run's id: views that need only "which run" read this and skip the per-step updates. */
export const $codebookRunId = computed($codebookRun, (run) => run?.run_id ?? null);

/** A run of another recipe that still trains or waits paused (it holds the model). */
export const $otherRun = computed($runState, (state): CodebookRun | null =>
  state?.active && state.recipe !== RECIPE && !FINAL_STATUSES.includes(state.status) ? state : null,
);

/** True while the VQ-VAE run trains or waits paused. */
export const $codebookLive = computed($codebookRun, (run) => run !== null && !FINAL_STATUSES.includes(run.status));

/** The run's setup (levels, codes per level, codebook kind …). */
export const $codebookConfig = atom<{ runId: string; config: CodebookConfig } | null>(null);

export const $codebookHealth = atom<CodebookHealth | null>(null);

export const $codebookSeries = atom<CodebookSeries>(emptySeries());

export const $codebookEvents = atom<{ runId: string; revive: boolean; events: RevivalEvent[] } | null>(null);

/** Whether "Debug: Codebook Dynamics" is open (closed, its data is not fetched). */
export const $dynamicsOpen = atom(true);

/** The level the dynamics plots show (1-based). */
export const $dynamicsLevel = atom(1);

export const $codebookDynamics = atom<CodebookDynamics | null>(null);

/** Whether the gradient bars show every level side by side (then every level's dynamics is fetched). */
export const $dynamicsSideBySide = atom(false);

/** The dynamics of every level (levels 1..L, in order), while the bars show them side by side. */
export const $codebookDynamicsAll = atom<{ runId: string; levels: CodebookDynamics[] } | null>(null);

export const $codebookDecoded = atom<CodebookDecoded | null>(null);

/** The newest step known from the state, the stream, the history or the health window. */
export const $codebookStep = computed(
  [$codebookRun, $runStep, $codebookSeries, $codebookHealth],
  (run, step, series, health) => {
    if (!run) return 0;
    const history = series.runId === run.run_id ? lastStep(series) : 0;
    const healthStep = health?.run_id === run.run_id ? health.step : 0;
    return Math.max(step, history, healthStep);
  },
);

// ---- actions ---------------------------------------------------------------------------------

/** Set once the user changed a field: the trainer's defaults no longer replace the form. */
let formTouched = false;

export function setFormField<K extends keyof CodebookForm>(key: K, value: CodebookForm[K]): void {
  formTouched = true;
  $codebookForm.set({ ...$codebookForm.get(), [key]: value });
}

/** Starts a VQ-VAE run with the form's values. */
export function startCodebookRun(): Promise<void> {
  return runControl("start", "Start", async () => {
    const answer = await postJSON<StartCodebookResponse>("/codebook/start", { ...$codebookForm.get() }, { timeoutMs: 60_000 });
    const { config, ...run } = answer;
    $codebookConfig.set({ runId: run.run_id, config });
    return run;
  });
}

/** Advances a paused run by `n` steps, then brings every figure up to the new step. */
export async function stepCodebookRun(n = 1): Promise<void> {
  const ran = await advanceRun(n, async () => {
    const answer = await postJSON<{ step: number }>("/debug/step", { n }, { timeoutMs: stepTimeoutMs(n) });
    return answer.step;
  });
  if (ran) refreshAll();
}

export function setDynamicsOpen(open: boolean): void {
  $dynamicsOpen.set(open);
  if (open) void refreshDynamics();
}

export function setDynamicsSideBySide(on: boolean): void {
  if (on === $dynamicsSideBySide.get()) return;
  $dynamicsSideBySide.set(on);
  if (on) void refreshDynamics();
}

export function setDynamicsLevel(level: number): void {
  if (level === $dynamicsLevel.get()) return;
  $dynamicsLevel.set(level);
  dynamicsSeq.invalidate();
  $codebookDynamics.set(null);
  void refreshDynamics();
}

// ---- fetching --------------------------------------------------------------------------------

/** `GET /codebook/state`: the form's defaults (once) and the current run's config. */
export async function refreshSetup(): Promise<void> {
  try {
    const setup = await fetchJSON<CodebookStateResponse>("/codebook/state");
    const first = $codebookSetup.get() === null;
    $codebookSetup.set(setup);
    if (first && !formTouched) {
      const { capture_every: _ignored, ...defaults } = setup.defaults;
      $codebookForm.set(defaults);
    }
    if (setup.run && setup.config) {
      const known = $codebookConfig.get()?.runId === setup.run.run_id;
      $codebookConfig.set({ runId: setup.run.run_id, config: setup.config });
      // A run started elsewhere (or before this page opened): the form shows what it runs while
      // it trains, and starts from it afterwards, unless the user already changed the form.
      const live = !FINAL_STATUSES.includes(setup.run.status);
      if (!known && (live || !formTouched)) $codebookForm.set(formFromRun(setup.run, setup.config));
      if (!$runState.get()) applyRunState(setup.run);
    }
  } catch (err) {
    showRunError("Read the codebook setup", err, true);
  }
}

const historySeq = runSequence();

/** Health, new history steps and new replacement events of the current run. */
export async function refreshLive(): Promise<void> {
  const run = $codebookRun.get();
  if (!run) return;
  const ticket = historySeq.next();
  const series = $codebookSeries.get();
  const since = series.runId === run.run_id ? nextSince(series) : 0;
  const events = $codebookEvents.get();
  const eventsSince = events?.runId === run.run_id && events.events.length ? events.events[events.events.length - 1].step + 1 : 0;
  const [health, history, newEvents] = await Promise.allSettled([
    fetchJSON<CodebookHealth>("/codebook/health"),
    fetchJSON<CodebookHistoryResponse>(`/codebook/history?since=${since}`),
    fetchJSON<CodebookEventsResponse>(`/codebook/events?since=${eventsSince}`),
  ]);
  if (!isCurrentRun(run.run_id)) return;
  if (health.status === "fulfilled" && health.value.run_id === run.run_id) {
    const shown = $codebookHealth.get();
    if (!shown || shown.run_id !== run.run_id || health.value.step >= shown.step) $codebookHealth.set(health.value);
  }
  if (history.status === "fulfilled" && historySeq.isCurrent(ticket)) {
    $codebookSeries.set(appendHistory($codebookSeries.get(), history.value));
  }
  if (newEvents.status === "fulfilled" && newEvents.value.run_id === run.run_id) {
    const held = $codebookEvents.get();
    const base = held?.runId === run.run_id ? held.events : [];
    const last = base.length ? base[base.length - 1].step : -Infinity;
    const added = newEvents.value.events.filter((e) => e.step > last);
    if (!held || held.runId !== run.run_id || added.length || held.revive !== newEvents.value.revive) {
      $codebookEvents.set({ runId: run.run_id, revive: newEvents.value.revive, events: added.length ? [...base, ...added] : base });
    }
  }
  const failed = [health, history, newEvents].find((r) => r.status === "rejected");
  if (failed && failed.status === "rejected") showRunError("Read the codebook health", failed.reason, true);
}

const dynamicsSeq = runSequence();

/** Trajectories and gradient bars (or EMA cluster sizes) of the chosen level. */
export async function refreshDynamics(): Promise<void> {
  const run = $codebookRun.get();
  if (!run || !$dynamicsOpen.get()) return;
  const level = $dynamicsLevel.get();
  const ticket = dynamicsSeq.next();
  try {
    const answer = await fetchJSON<CodebookDynamics>(`/codebook/dynamics?level=${level}`);
    if (!dynamicsSeq.isCurrent(ticket) || !isCurrentRun(answer.run_id)) return;
    $codebookDynamics.set(answer);
    if ($dynamicsSideBySide.get()) await refreshAllLevels(run.run_id, ticket);
  } catch (err) {
    // A level the run does not have (a new run with fewer levels): go back to level 1.
    if (err instanceof ApiError && err.status === 422 && level !== 1) {
      setDynamicsLevel(1);
      return;
    }
    if (dynamicsSeq.isCurrent(ticket)) showRunError("Read the codebook dynamics", err, true);
  }
}

/**
 * Every level's dynamics, one `GET /codebook/dynamics?level=k` each (the API answers one level at
 * a time), for the side-by-side bars. Dropped when a newer refresh or another run overtook it.
 */
async function refreshAllLevels(runId: string, ticket: number): Promise<void> {
  const config = $codebookConfig.get();
  const health = $codebookHealth.get();
  const count = config && config.runId === runId ? config.config.levels : health?.run_id === runId ? health.levels.length : 0;
  if (count < 1) return;
  const levels = await Promise.all(
    Array.from({ length: count }, (_, i) => fetchJSON<CodebookDynamics>(`/codebook/dynamics?level=${i + 1}`)),
  );
  if (!dynamicsSeq.isCurrent(ticket) || levels.some((answer) => answer.run_id !== runId)) return;
  $codebookDynamicsAll.set({ runId, levels });
}

const decodedSeq = runSequence();

/** The decoded level-1 codes and level-1 + level-2 combinations (404 before step 1). */
export async function refreshDecoded(): Promise<void> {
  const run = $codebookRun.get();
  // Codes are first decoded at step 1; before it the trainer answers 404.
  if (!run || $codebookStep.get() < 1) return;
  const ticket = decodedSeq.next();
  try {
    const answer = await fetchJSON<CodebookDecoded>("/codebook/decoded");
    if (!decodedSeq.isCurrent(ticket) || !isCurrentRun(answer.run_id)) return;
    $codebookDecoded.set(answer);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return; // nothing decoded yet
    if (decodedSeq.isCurrent(ticket)) showRunError("Read the decoded codes", err, true);
  }
}

function refreshAll(): void {
  void refreshLive();
  void refreshDynamics();
  void refreshDecoded();
}

const refreshLiveSoon = throttle(refreshLive, LIVE_REFRESH_MS);
const refreshDynamicsSoon = throttle(refreshDynamics, DYNAMICS_REFRESH_MS);
const refreshDecodedSoon = throttle(() => {
  // Only when a decode step (1, 50, 100, …) has passed since the images shown.
  const decoded = $codebookDecoded.get();
  const run = $codebookRun.get();
  const step = $codebookStep.get();
  const due = Math.floor(step / DECODE_EVERY) * DECODE_EVERY;
  if (!decoded || decoded.run_id !== run?.run_id || decoded.step < due) return refreshDecoded();
  return undefined;
}, DECODED_REFRESH_MS);

// ---- internals -------------------------------------------------------------------------------

/** A state answer (run-store.ts took it): a new VQ-VAE run clears every figure of the old one. */
function onRunState(_state: RunState, previousRun: RunStateActive | null): void {
  const previous = previousRun?.recipe === RECIPE ? previousRun : null;
  const run = $codebookRun.get();
  if (!run) return;
  if (previous?.run_id !== run.run_id) {
    $codebookSeries.set(emptySeries(run.run_id));
    $codebookHealth.set(null);
    $codebookEvents.set(null);
    $codebookDynamics.set(null);
    $codebookDynamicsAll.set(null);
    $codebookDecoded.set(null);
    if ($codebookConfig.get()?.runId !== run.run_id) void refreshSetup();
    refreshAll();
    return;
  }
  if (previous.status !== run.status) {
    // Paused, resumed or finished: bring every figure up to the step the run stands at.
    refreshAll();
  }
}

/** Something changed in the VQ-VAE run: its figures follow, each at its own pace. */
function onSteps(event: RunStepsEvent): void {
  const run = $codebookRun.get();
  if (!run || event.run_id !== run.run_id) return;
  if (event.rewound_to !== undefined) {
    // The run went back: the steps after that one are a branch now. Read the line again.
    $codebookSeries.set(emptySeries(run.run_id));
    $codebookEvents.set(null);
    refreshAll();
    return;
  }
  if (!event.steps.length) return;
  refreshLiveSoon();
  refreshDynamicsSoon();
  refreshDecodedSoon();
}

attachRunPage({
  onState: onRunState,
  onSteps,
  onMount: () => {
    void refreshSetup();
    return () => {
      refreshLiveSoon.cancel();
      refreshDynamicsSoon.cancel();
      refreshDecodedSoon.cancel();
    };
  },
});
