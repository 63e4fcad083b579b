// The History page's state: the archive's run list (with its filters and size), the runs picked
// for the chart and their fetched histories, the page's last error and the delete in flight.
// Components read these stores and call the verbs below; every call goes through lib/api.ts.
import { atom, map } from "nanostores";

import type { Busy } from "../components/BusyNote";
import { deleteJSON, fetchFrame, fetchJSON } from "./api";
import type { ArchiveDeleted, ArchiveHistory, ArchiveList, ArchivedRun, ArchivedStatus } from "./history-types";
import type { StepEvent } from "./steering-types";
import { sequence } from "./sequence";
import { type ActionError, actionError, whileBusy } from "./store-actions";
import { decodeFrame, type StepFrame } from "./tensor-frame";

export interface HistoryFilters {
  recipe: string;
  status: ArchivedStatus | "";
}

export type HistoryAction = "delete";

export const $historyFilters = map<HistoryFilters>({ recipe: "", status: "" });
export const $archiveList = atom<ArchiveList | null>(null);
/** The runs drawn on the chart, in the order they were picked (their colours follow it). */
export const $selectedRuns = atom<string[]>([]);
export const $runHistories = map<Record<string, ArchiveHistory>>({});
/** The live edits and breakpoints of each picked run, drawn as markers on the chart. */
export const $runStepEvents = map<Record<string, StepEvent[]>>({});
export const $historyError = atom<ActionError | null>(null);
export const $historyBusy = atom<Busy<HistoryAction> | null>(null);

/** A kept step of an archived run, open in the inspector's views. */
export interface KeptStep {
  runId: string;
  step: number;
  frame: StepFrame;
}

export const $keptStep = atom<KeptStep | null>(null);

const listSequence = sequence();
const keptSequence = sequence();

/** `GET /archive/runs` with the filters; a picked run no longer there leaves the chart. */
export async function loadRuns(): Promise<void> {
  const ticket = listSequence.next();
  const { recipe, status } = $historyFilters.get();
  const query = new URLSearchParams();
  if (recipe) query.set("recipe", recipe);
  if (status) query.set("status", status);
  const suffix = query.size ? `?${query.toString()}` : "";
  try {
    const list = await fetchJSON<ArchiveList>(`/archive/runs${suffix}`);
    if (!listSequence.isCurrent(ticket)) return;
    $archiveList.set(list);
  } catch (err) {
    if (listSequence.isCurrent(ticket)) $historyError.set(actionError("Load the runs", err));
  }
}

export function setFilter<K extends keyof HistoryFilters>(name: K, value: HistoryFilters[K]): void {
  $historyFilters.set({ ...$historyFilters.get(), [name]: value });
  void loadRuns();
}

/** Pick a run for the chart (its history is fetched once) or put it away. */
export async function toggleRun(id: string, picked: boolean): Promise<void> {
  const selected = $selectedRuns.get().filter((other) => other !== id);
  $selectedRuns.set(picked ? [...selected, id] : selected);
  if (!picked || $runHistories.get()[id]) return;
  try {
    const path = `/archive/runs/${encodeURIComponent(id)}`;
    const [history, run] = await Promise.all([fetchJSON<ArchiveHistory>(`${path}/history`), fetchJSON<ArchivedRun>(path)]);
    if ($selectedRuns.get().includes(id)) {
      $runStepEvents.setKey(id, stepEvents(run));
      $runHistories.setKey(id, history);
    }
  } catch (err) {
    $historyError.set(actionError(`Load the history of run ${id}`, err));
  }
}

/** `DELETE /archive/runs/{id}`, then the list again. */
export async function deleteRun(id: string): Promise<void> {
  await whileBusy($historyBusy, { action: "delete", startedAt: Date.now() }, async () => {
    try {
      const answer = await deleteJSON<ArchiveDeleted>(`/archive/runs/${encodeURIComponent(id)}`);
      $selectedRuns.set($selectedRuns.get().filter((other) => other !== id));
      const { [answer.deleted]: _gone, ...rest } = $runHistories.get();
      $runHistories.set(rest);
      const { [answer.deleted]: _events, ...otherEvents } = $runStepEvents.get();
      $runStepEvents.set(otherEvents);
      if ($keptStep.get()?.runId === answer.deleted) closeKeptStep();
      await loadRuns();
    } catch (err) {
      $historyError.set(actionError(`Delete run ${id}`, err));
    }
  });
}

/** The path of an archived run's kept steps (`…/{n}` is one, `…/{n}/tensor/{key}` one of its tensors). */
export function keptStepsPath(runId: string): string {
  return `/archive/runs/${encodeURIComponent(runId)}/steps`;
}

/** `GET /archive/runs/{id}/steps/{step}` as a frame: the step's tensors, in the same views a live step has. */
export async function openKeptStep(runId: string, step: number): Promise<void> {
  const ticket = keptSequence.next();
  try {
    const frame = decodeFrame(await fetchFrame(`${keptStepsPath(runId)}/${step}`));
    if (keptSequence.isCurrent(ticket)) $keptStep.set({ runId, step, frame });
  } catch (err) {
    if (keptSequence.isCurrent(ticket)) $historyError.set(actionError(`Open step ${step} of run ${runId}`, err));
  }
}

export function closeKeptStep(): void {
  keptSequence.invalidate();
  $keptStep.set(null);
}

export function dismissHistoryError(): void {
  $historyError.set(null);
}

/** An archived run's live edits and breakpoints, as the live timelines draw them. */
export function stepEvents(run: ArchivedRun): StepEvent[] {
  return run.events.flatMap((event) =>
    (event.kind === "hparam" || event.kind === "breakpoint") && event.step !== null
      ? [{ step: event.step, kind: event.kind, name: event.name ?? "", old: event.old ?? null, new: event.new ?? null }]
      : [],
  );
}
