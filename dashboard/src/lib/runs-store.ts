// The runs page's part of the free run (the run itself, its controls and its event stream are in
// run-store.ts): the live per-step series, the last stepped step's full data, the force scatter,
// one feature's force detail, and the watched features' trajectories.
// Views read these stores and call the verbs below; none of them fetches by itself.
import { atom } from "nanostores";

import { $focusedFeature, focusFeature } from "./feature-focus-store";
import { fetchFrame, fetchJSON, postJSON } from "./api";
import { historyQuery } from "./inspect-history";
import type { InspectHistoryResponse } from "./inspect-types";
import {
  $run,
  $runStep,
  advanceRun,
  attachRunPage,
  isCurrentRun,
  runControl,
  runSequence,
  showRunError,
  stepTimeoutMs,
} from "./run-store";
import { FORCE_KEYS, type StepForces, forcePoints, forcesFromHistory } from "./runs/forces";
import { seriesUpTo } from "./rewind-lines";
import { appendSteps, emptySeries, type LiveSeries } from "./runs/series";
import { addSample, type StepSample } from "./runs/speed";
import { errorDetail } from "./store-actions";
import { throttle } from "./throttle";
import { exportFileName, trajectoryExport, withFeature, withoutFeature } from "./runs/trajectory";
import type {
  ForceDetail,
  RunState,
  RunStateActive,
  RunStepsEvent,
  StartRunRequest,
  TrajectoriesResponse,
  TrajectoryField,
  WatchResponse,
} from "./runs-types";
import { FINAL_STATUSES } from "./runs-types";
import { decodeFrame, type StepFrame } from "./tensor-frame";

export const DEFAULT_RECIPE = "gradient_gating_l0";
export const DEFAULT_CONDITION = "bcl-med";
export const MAX_WATCHED = 8;
/** Refetch rates while a run streams steps (per second: trajectories 2, forces 1, detail 1). The
 * force scatter redraws every point at each refetch, the page's largest repaint while a run goes:
 * once a second keeps it live without taking the cores the run trains on. */
export const TRAJECTORY_REFRESH_MS = 500;
export const FORCES_REFRESH_MS = 1_000;
export const DETAIL_REFRESH_MS = 1_000;

// ---- stores ----------------------------------------------------------------------------------

/** Every step of the current run so far: step, loss and mean weight cosine. */
export const $runSeries = atom<LiveSeries>(emptySeries());

/** When the run's recent steps were first seen, for its live steps/s (runs/speed.ts). */
export const $runStepSamples = atom<readonly StepSample[]>([]);

/** The full data of the last step taken with Step (or of the paused step, on page load). */
export interface RunFrame {
  runId: string;
  frame: StepFrame;
}

export const $runFrame = atom<RunFrame | null>(null);

/** The force scatter's step: grad and SOM magnitude and win rate per feature. */
export const $runForces = atom<StepForces | null>(null);

/** Why the scatter is empty when the run has no forces (e.g. the `control` condition). */
export const $runForcesNote = atom<string | null>(null);

export type DetailStatus = "none" | "loading" | "ready" | "error";

/** The feature picked in the scatter and its `GET /debug/force_detail`. */
export interface FeatureDetailState {
  feature: number | null;
  status: DetailStatus;
  data: ForceDetail | null;
  detail: string | null;
}

const NO_DETAIL: FeatureDetailState = { feature: null, status: "none", data: null, detail: null };

export const $featureDetail = atom<FeatureDetailState>(NO_DETAIL);

/** The watch list as the trainer holds it. */
export const $watched = atom<number[]>([]);

/** `GET /debug/trajectories` of the current run. */
export const $trajectories = atom<TrajectoriesResponse | null>(null);

/** The metric the trajectory chart shows. */
export const $trajectoryMetric = atom<TrajectoryField>("win_rate");

/** Recipes the trainer offers (only an answer without a run lists them). */
export const $runRecipes = atom<string[]>([DEFAULT_RECIPE]);

// ---- actions ---------------------------------------------------------------------------------

/** Starts a run; the trainer answers 409 (shown) while the inspector or another run holds the model. */
export function startRun(request: StartRunRequest): Promise<void> {
  return runControl("start", `Start ${request.condition}`, () =>
    postJSON<RunState>("/runs", request, { timeoutMs: 60_000 }),
  );
}

/**
 * Advances a paused run by `n` steps (default one batch) and shows the last one: its frame (batch
 * grid, loss, every tensor), its forces, and the trajectories and detail that follow from it.
 */
export async function stepRun(n = 1): Promise<void> {
  const ran = await advanceRun(n, async (run) => {
    const frame = decodeFrame(await fetchFrame("/debug/step", { method: "POST", body: { n }, timeoutMs: stepTimeoutMs(n) }));
    if (isCurrentRun(run.run_id)) showFrame(run.run_id, frame);
    return frame.step;
  });
  if (!ran) return;
  void refreshTrajectories();
  refreshDetailSoon(true);
}

/**
 * Shows step `k` of the run in the step panel and the views below it, when the trainer still holds
 * its full data. Returns null when shown, else why not (e.g. only every `capture_every`-th step is captured).
 */
export async function showRunStep(k: number): Promise<string | null> {
  const run = $run.get();
  if (!run) return "no run";
  try {
    const frame = decodeFrame(await fetchFrame(`/runs/step/${k}`));
    if (isCurrentRun(run.run_id)) showFrame(run.run_id, frame);
    return null;
  } catch (err) {
    return errorDetail(err);
  }
}

/** Shows `feature`'s weight and updates of the newest fully captured step. */
export async function selectFeature(feature: number | null): Promise<void> {
  // One feature in focus across the page: the inspector views below highlight it too.
  if ($focusedFeature.get() !== feature) focusFeature(feature);
  const current = $featureDetail.get();
  if (feature === current.feature && current.status !== "error") return;
  if (feature === null) {
    detailSeq.invalidate();
    $featureDetail.set(NO_DETAIL);
    return;
  }
  const previous = $featureDetail.get();
  $featureDetail.set({
    feature,
    status: "loading",
    data: previous.feature === feature ? previous.data : null,
    detail: null,
  });
  await loadDetail(feature);
}

const detailSeq = runSequence();

async function loadDetail(feature: number): Promise<void> {
  const ticket = detailSeq.next();
  try {
    const data = await fetchJSON<ForceDetail>(`/debug/force_detail?feature=${feature}`);
    if (!detailSeq.isCurrent(ticket)) return;
    $featureDetail.set({ feature, status: "ready", data, detail: null });
  } catch (err) {
    if (!detailSeq.isCurrent(ticket)) return;
    const previous = $featureDetail.get();
    $featureDetail.set({ feature, status: "error", data: previous.data, detail: errorDetail(err) });
  }
}

/** Replaces the watch list (at most MAX_WATCHED features); trajectories start for new ones. */
export async function setWatched(features: number[]): Promise<boolean> {
  try {
    const answer = await postJSON<WatchResponse>("/debug/watch", { feature_ids: features });
    $watched.set(answer.watched);
    await refreshTrajectories();
    return true;
  } catch (err) {
    showRunError("Watch features", err);
    return false;
  }
}

export function watchFeature(feature: number): Promise<boolean> {
  return setWatched(withFeature($watched.get(), feature, MAX_WATCHED));
}

export function unwatchFeature(feature: number): Promise<boolean> {
  return setWatched(withoutFeature($watched.get(), feature));
}

/** Forgets every trajectory (the watch list stays). */
export async function clearTrajectories(): Promise<void> {
  try {
    const answer = await postJSON<TrajectoriesResponse>("/debug/trajectories/clear", {});
    trajectorySeq.invalidate();
    if (isCurrentRun(answer.run_id)) $trajectories.set(answer);
  } catch (err) {
    showRunError("Clear trajectories", err);
  }
}

export function setTrajectoryMetric(metric: TrajectoryField): void {
  $trajectoryMetric.set(metric);
}

/** Downloads the run's trajectories as JSON (fetched fresh, so the file has every point so far). */
export async function exportTrajectories(): Promise<void> {
  await refreshTrajectories();
  const run = $run.get();
  const trajectories = $trajectories.get();
  if (!run || !trajectories) return;
  const body = JSON.stringify(trajectoryExport(run, trajectories, new Date()), null, 1);
  const url = URL.createObjectURL(new Blob([body], { type: "application/json" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = exportFileName(run, $runStep.get());
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const trajectorySeq = runSequence();

/** Fetches the trajectories; an answer older than one already shown is dropped. */
export async function refreshTrajectories(): Promise<void> {
  if (!$run.get()) return;
  const ticket = trajectorySeq.next();
  try {
    const answer = await fetchJSON<TrajectoriesResponse>("/debug/trajectories");
    if (!trajectorySeq.isCurrent(ticket) || !isCurrentRun(answer.run_id)) return;
    $trajectories.set(answer);
    if (!sameList(answer.watched, $watched.get())) $watched.set(answer.watched);
  } catch (err) {
    if (trajectorySeq.isCurrent(ticket)) showRunError("Read the trajectories", err, true);
  }
}

const forcesSeq = runSequence();

/** The forces of the newest fully captured step, from the run's history (one step's [D]
 * vectors: a running run keeps them only on its full steps, every `capture_every`-th). */
async function refreshForces(): Promise<void> {
  const run = $run.get();
  if (!run) return;
  // Running freely, every `capture_every`-th step is full; a step taken while paused is too.
  const step = $runStep.get();
  const last = Math.max(run.last_full_step ?? 0, step - (step % run.capture_every));
  if (last < 1) return;
  const ticket = forcesSeq.next();
  try {
    // That step's three [D] vectors only, not every column of the run's history.
    const history = await fetchJSON<InspectHistoryResponse>(`/runs/history?${historyQuery(last, FORCE_KEYS, 1)}`);
    if (!forcesSeq.isCurrent(ticket) || !isCurrentRun(run.run_id)) return;
    const forces = forcesFromHistory(run.run_id, history);
    if (!forces) {
      if (history.steps.length) $runForcesNote.set(`the ${run.condition} condition has no BCL forces`);
      return;
    }
    const shown = $runForces.get();
    if (!shown || shown.runId !== run.run_id || forces.step >= shown.step) {
      $runForces.set(forces);
      $runForcesNote.set(null);
    }
  } catch {
    // The next steps event tries again; an unreachable trainer has its own banner.
  }
}

// ---- internals -------------------------------------------------------------------------------

const refreshTrajectoriesSoon = throttle(refreshTrajectories, TRAJECTORY_REFRESH_MS);
const refreshForcesSoon = throttle(refreshForces, FORCES_REFRESH_MS);
const refreshDetailThrottled = throttle(() => {
  const { feature } = $featureDetail.get();
  return feature === null ? undefined : loadDetail(feature);
}, DETAIL_REFRESH_MS);

function refreshDetailSoon(now = false): void {
  const { feature } = $featureDetail.get();
  if (feature === null) return;
  if (now) void loadDetail(feature);
  else refreshDetailThrottled();
}

function showFrame(runId: string, frame: StepFrame): void {
  $runFrame.set({ runId, frame });
  const points = forcePoints(
    frame.tensors.grad_magnitude?.data,
    frame.tensors.som_magnitude?.data,
    frame.tensors.win_rate?.data,
  );
  if (points) {
    $runForces.set({ runId, step: frame.step, points });
    $runForcesNote.set(null);
  } else {
    $runForcesNote.set(`step ${frame.step} has no BCL forces (condition ${frame.header.condition})`);
  }
}

/** A state answer (run-store.ts took it): a new run clears everything that belonged to the old one. */
function onRunState(state: RunState, previous: RunStateActive | null): void {
  // Every answer lists every recipe: a VQ run must not narrow the form to its own recipe.
  if (state.recipes?.length) $runRecipes.set(state.recipes);
  if (!state.active) return;
  if (previous?.run_id !== state.run_id) {
    // A new run (or the first answer): nothing of the old one applies.
    if ($runSeries.get().runId !== state.run_id) $runSeries.set(emptySeries(state.run_id));
    $runStepSamples.set(addSample([], Date.now(), $runStep.get()));
    $runFrame.set(null);
    $runForces.set(null);
    $runForcesNote.set(null);
    $featureDetail.set(NO_DETAIL);
    $trajectories.set(null);
    $watched.set(state.watched);
    void refreshTrajectories();
    void refreshForces();
    // Reopening the page on a paused run that was stepped: show that step again.
    if (state.status === "paused" && state.step > 0 && state.last_full_step === state.step) {
      void loadHeldStep(state.run_id, state.step);
    }
    return;
  }
  if (!sameList(state.watched, $watched.get())) $watched.set(state.watched);
  if (previous.status !== state.status && FINAL_STATUSES.includes(state.status)) {
    // The last steps of a finished run: bring the views up to its end.
    void refreshTrajectories();
    void refreshForces();
  }
}

async function loadHeldStep(runId: string, step: number): Promise<void> {
  try {
    const frame = decodeFrame(await fetchFrame(`/runs/step/${step}`));
    if (isCurrentRun(runId) && !$runFrame.get()) showFrame(runId, frame);
  } catch {
    // Evicted or gone: the panel keeps its "press Step" hint.
  }
}

function onSteps(event: RunStepsEvent): void {
  const series = $runSeries.get();
  // A rewind (here or in another tab) drops the steps after the one it went back to.
  const kept = event.rewound_to !== undefined && series.runId === event.run_id ? seriesUpTo(series, event.rewound_to) : series;
  const next = appendSteps(kept, event);
  if (next === series) return;
  $runSeries.set(next);
  if (!isCurrentRun(event.run_id)) return;
  refreshForcesSoon();
  if ($watched.get().length > 0) refreshTrajectoriesSoon();
  if ($run.get()?.status === "running") refreshDetailSoon();
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

attachRunPage({
  onState: onRunState,
  onSteps,
  onMount: () => {
    // A feature focused in the inspector views (a table row, a heatmap column) opens here too.
    const unfocus = $focusedFeature.listen((feature) => {
      if (feature !== $featureDetail.get().feature) void selectFeature(feature);
    });
    const unstep = $runStep.subscribe((step) => $runStepSamples.set(addSample($runStepSamples.get(), Date.now(), step)));
    return () => {
      unfocus();
      unstep();
      refreshTrajectoriesSoon.cancel();
      refreshForcesSoon.cancel();
      refreshDetailThrottled.cancel();
    };
  },
});
