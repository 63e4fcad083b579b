// The per-feature timeline's data: one `[D]` history key over the session's steps, fetched in
// increments from `GET /inspect/history?keys=<key>` whenever the inspector's history grows (after
// each Step). The views read `$featureMatrix`; nothing here sets up or steps a session.
import { atom, onMount } from "nanostores";

import { fetchJSON } from "./api";
import { appendMatrix, DEFAULT_FEATURE_KEY, emptyMatrix, type FeatureMatrix } from "./feature-timeline";
import type { StepTensorKey } from "./generated/tensor-keys";
import { historyQuery } from "./inspect-history";
import { $inspectHistory, $inspectSession } from "./inspect-store";
import type { InspectHistoryResponse } from "./inspect-types";
import { errorDetail } from "./store-actions";

/** Steps asked for per request: [D] rows are ~1 KB of JSON each. */
export const FEATURE_PAGE_STEPS = 2_000;

/** The key the timeline shows. */
export const $featureKey = atom<StepTensorKey>(DEFAULT_FEATURE_KEY);

/** The shown key over the session's steps so far (null: no session). */
export const $featureMatrix = atom<FeatureMatrix | null>(null);

/** Why the last fetch failed, or null. */
export const $featureError = atom<string | null>(null);

/** Whether a fetch is out. */
export const $featureLoading = atom(false);

// The matrices of the other keys already fetched in this session: switching back is instant.
const cache = new Map<StepTensorKey, FeatureMatrix>();

export function pickFeatureKey(key: StepTensorKey): void {
  if (key === $featureKey.get()) return;
  const current = $featureMatrix.get();
  if (current) cache.set(current.key, current);
  $featureKey.set(key);
  void refreshFeatureTimeline();
}

let chain: Promise<void> = Promise.resolve();

/** Brings the shown key up to the newest step of the history. One request chain at a time. */
export function refreshFeatureTimeline(): Promise<void> {
  chain = chain.then(fetchPages, fetchPages);
  return chain;
}

async function fetchPages(): Promise<void> {
  const session = $inspectSession.get();
  if (!session) {
    cache.clear();
    if ($featureMatrix.get() !== null) $featureMatrix.set(null);
    return;
  }
  const key = $featureKey.get();
  let matrix = $featureMatrix.get();
  if (matrix?.sessionId !== session.session_id) cache.clear();
  if (matrix?.sessionId !== session.session_id || matrix.key !== key) {
    const cached = cache.get(key);
    matrix = cached?.sessionId === session.session_id ? cached : emptyMatrix(session.session_id, key);
    $featureMatrix.set(matrix);
  }
  const history = $inspectHistory.get();
  const newest = Math.max(session.step, history.sessionId === session.session_id ? (history.steps.at(-1) ?? 0) : 0);
  // Rows older than the trainer's vector window come back null: start where they are held.
  const first = Math.max(1, newest - session.max_vector_history + 1, history.vectorsFrom ?? 1);
  $featureLoading.set(true);
  try {
    for (;;) {
      const last = matrix.steps.at(-1);
      const since = last === undefined ? first : last + 1;
      if (since > newest) return;
      let answer: InspectHistoryResponse;
      try {
        answer = await fetchJSON<InspectHistoryResponse>(`/inspect/history?${historyQuery(since, [key], FEATURE_PAGE_STEPS)}`);
      } catch (err) {
        $featureError.set(errorDetail(err));
        return;
      }
      $featureError.set(null);
      // The session or the key changed meanwhile: these rows are not ours.
      if ($inspectSession.get()?.session_id !== session.session_id || $featureKey.get() !== key) return;
      const next = appendMatrix(matrix, answer);
      if (next !== matrix) {
        matrix = next;
        $featureMatrix.set(matrix);
      }
      if (!answer.more || answer.steps.length === 0) return;
    }
  } finally {
    $featureLoading.set(false);
  }
}

onMount($featureMatrix, () => {
  if (typeof window === "undefined") return;
  void refreshFeatureTimeline();
  // The history grows after every Step (and starts over with a new session): follow it.
  return $inspectHistory.listen(() => void refreshFeatureTimeline());
});
