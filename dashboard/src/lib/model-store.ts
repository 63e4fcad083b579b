// The model page's state (an attached loop, acc.attach): the loop's state from `/model/events`,
// the layer table and scalar history of the newest step, the histograms and the heatmap picked,
// the last error and the control call in flight. Components read these stores and call the verbs
// below; every call goes through lib/api.ts.
import { atom, onMount } from "nanostores";

import type { Busy } from "../components/BusyNote";
import { fetchJSON, openEventStream, postJSON } from "./api";
import { DEFAULT_HEATMAP_CELLS } from "./generated/limits";
import type { ModelHeatmap, ModelHistograms, ModelHistory, ModelLayers, ModelState } from "./model-types";
import { sequence } from "./sequence";
import { type ActionError, actionError, whileBusy } from "./store-actions";

export type ModelAction = "pause" | "step" | "resume" | "stop";

export const $modelState = atom<ModelState | null>(null);
export const $modelLayers = atom<ModelLayers | null>(null);
export const $modelScalars = atom<ModelHistory | null>(null);
export const $modelError = atom<ActionError | null>(null);
export const $modelBusy = atom<Busy<ModelAction> | null>(null);
/** The parameter whose histograms and weight heatmap are shown. */
export const $modelPicked = atom<string | null>(null);
export const $modelHistograms = atom<ModelHistograms | null>(null);
export const $modelHeatmap = atom<ModelHeatmap | null>(null);
/** Which tensor of the picked parameter the heatmap shows. */
export const $heatmapKind = atom<"weight" | "grad" | "update">("weight");
/** The part of the tensor the heatmap shows, [r0, r1, c0, c1] half-open; null: all of it. */
export const $heatmapWindow = atom<[number, number, number, number] | null>(null);

const layersSequence = sequence();
const histogramSequence = sequence();
const heatmapSequence = sequence();

/** The layer table and the scalars, read again after the loop moved. */
export async function loadLayers(): Promise<void> {
  const ticket = layersSequence.next();
  try {
    const [layers, scalars] = await Promise.all([
      fetchJSON<ModelLayers>("/model/layers"),
      fetchJSON<ModelHistory>("/model/history"),
    ]);
    if (!layersSequence.isCurrent(ticket)) return;
    $modelLayers.set(layers);
    $modelScalars.set(scalars);
    if ($modelPicked.get() === null && layers.parameters.length) pick(layers.parameters[0].name);
  } catch (err) {
    if (layersSequence.isCurrent(ticket)) $modelError.set(actionError("Load the layer table", err));
  }
}

/** Show `parameter`'s histograms and heatmap. */
export function pick(parameter: string): void {
  $modelPicked.set(parameter);
  $heatmapWindow.set(null);
  void loadHistograms();
  void loadHeatmap();
}

export function pickHeatmapKind(kind: "weight" | "grad" | "update"): void {
  $heatmapKind.set(kind);
  void loadHeatmap();
}

/** Zoom the heatmap into `part` (null: the whole tensor); a window that fits comes back exact. */
export function zoomHeatmap(part: [number, number, number, number] | null): void {
  $heatmapWindow.set(part);
  void loadHeatmap();
}

export async function loadHistograms(): Promise<void> {
  const parameter = $modelPicked.get();
  if (parameter === null) return;
  const ticket = histogramSequence.next();
  try {
    const answer = await fetchJSON<ModelHistograms>(`/model/histograms?parameter=${encodeURIComponent(parameter)}`);
    if (histogramSequence.isCurrent(ticket)) $modelHistograms.set(answer);
  } catch (err) {
    if (histogramSequence.isCurrent(ticket)) $modelError.set(actionError(`Load the histograms of ${parameter}`, err));
  }
}


/**
 * The picked parameter's tensor of the newest held step, reduced to the canvas; nothing (no error)
 * while no step is held: a running loop holds steps only once paused.
 */
export async function loadHeatmap(): Promise<void> {
  const parameter = $modelPicked.get();
  const state = $modelState.get();
  const ticket = heatmapSequence.next();
  if (parameter === null || state?.last_full_step == null) {
    $modelHeatmap.set(null);
    return;
  }
  const key = `${$heatmapKind.get()}/${parameter}`;
  // The server reduces the tensor to what the canvas draws: at most this many cells a side.
  const cells = String(DEFAULT_HEATMAP_CELLS);
  const query = new URLSearchParams({ key, rows: cells, cols: cells });
  const zoom = $heatmapWindow.get();
  if (zoom) ["r0", "r1", "c0", "c1"].forEach((name, i) => query.set(name, String(zoom[i])));
  try {
    const answer = await fetchJSON<ModelHeatmap>(`/model/heatmap?${query.toString()}`);
    if (heatmapSequence.isCurrent(ticket)) $modelHeatmap.set(answer);
  } catch (err) {
    if (heatmapSequence.isCurrent(ticket)) $modelError.set(actionError(`Load the heatmap of ${key}`, err));
  }
}

async function control(action: ModelAction, label: string, path: string, body: unknown): Promise<void> {
  await whileBusy($modelBusy, { action, startedAt: Date.now() }, async () => {
    try {
      $modelState.set({ ...(await postJSON<ModelState>(path, body, { timeoutMs: 0 })) });
      $modelError.set(null);
    } catch (err) {
      $modelError.set(actionError(label, err));
    }
  });
  void loadLayers();
  void loadHeatmap();
  void loadHistograms();
}

export const pauseModel = () => control("pause", "Pause", "/debug/pause", {});
export const resumeModel = () => control("resume", "Resume", "/debug/resume", {});
export const stopModel = () => control("stop", "Stop", "/runs/stop", {});
export const stepModel = (n: number) => control("step", `Step ×${n}`, "/debug/step", { n });

export function dismissModelError(): void {
  $modelError.set(null);
}

onMount($modelState, () => {
  // Astro renders the islands once at build time; no stream there.
  if (typeof window === "undefined") return;
  let lastStep = -1;
  let lastHeld: number | null = null;
  return openEventStream("/model/events", {
    events: {
      state: (data) => {
        const state = data as ModelState;
        $modelState.set(state);
        // One read of the table per batch of steps the server sends (at most 4 a second).
        if (state.step !== lastStep) {
          lastStep = state.step;
          void loadLayers();
          void loadHistograms();
        }
        if (state.last_full_step !== lastHeld) {
          lastHeld = state.last_full_step;
          void loadHeatmap();
        }
      },
    },
  });
});
