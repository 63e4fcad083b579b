// The per-rank view of a distributed attached loop: which rank is picked and the per-rank series
// (loss, gradient norm before the all-reduce) read from `/model/ranks` whenever the loop moves.
// The newest report of every rank arrives with the loop's state (`$modelState.ranks`).
import { atom, onMount } from "nanostores";

import { fetchJSON } from "./api";
import { $modelState } from "./model-store";
import type { RankBatch, RankHistory } from "./rank-types";
import { sequence } from "./sequence";

/** How many of the newest steps the comparison charts show. */
export const RANK_WINDOW = 2000;

export const $rankHistory = atom<RankHistory | null>(null);
/** The rank whose report and batch are shown in detail. */
export const $pickedRank = atom<number>(0);
/** The picked rank's batch of the newest held step; null while none is held. */
export const $rankBatch = atom<RankBatch | null>(null);

const historySequence = sequence();
const batchSequence = sequence();

export function pickRank(rank: number): void {
  $pickedRank.set(rank);
  void loadRankBatch();
}

/** The picked rank's batch of the newest held step (none while running freely: no error). */
export async function loadRankBatch(): Promise<void> {
  const ticket = batchSequence.next();
  const state = $modelState.get();
  if (!state?.ranks || state.last_full_step === null) {
    $rankBatch.set(null);
    return;
  }
  try {
    const answer = await fetchJSON<RankBatch>(`/model/ranks/batch?rank=${$pickedRank.get()}`);
    if (batchSequence.isCurrent(ticket)) $rankBatch.set(answer);
  } catch {
    // No batch held for that rank (404: the loop does not call dbg.record_batch): nothing shown.
    if (batchSequence.isCurrent(ticket)) $rankBatch.set(null);
  }
}

/** The per-rank series of the newest `RANK_WINDOW` steps. */
export async function loadRankHistory(step: number): Promise<void> {
  const ticket = historySequence.next();
  const since = Math.max(0, step - RANK_WINDOW + 1);
  try {
    const answer = await fetchJSON<RankHistory>(`/model/ranks?since=${since}`);
    if (historySequence.isCurrent(ticket)) $rankHistory.set(answer);
  } catch {
    // A loop in one process has no ranks (409): the view stays hidden, nothing to report.
    if (historySequence.isCurrent(ticket)) $rankHistory.set(null);
  }
}

onMount($rankHistory, () => {
  let lastStep = -1;
  let lastHeld: number | null = null;
  // The model store's event stream already paces state changes (at most 4 a second).
  return $modelState.subscribe((state) => {
    if (!state?.ranks || state.step === lastStep) return;
    lastStep = state.step;
    void loadRankHistory(state.step);
    if (state.last_full_step !== lastHeld) {
      lastHeld = state.last_full_step;
      void loadRankBatch();
    }
  });
});
