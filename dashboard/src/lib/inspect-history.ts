// The inspector's copy of the session's per-step history, and how an answer of
// `GET /inspect/history` extends it. Pure functions; inspect-store.ts fetches and holds the result.
import { KEY_META, StepTensorKey } from "./generated/tensor-keys";
import type { FailedStep, HistoryValue, InspectHistoryResponse } from "./inspect-types";

/** Every step of the session so far: `columns[key][i]` belongs to `steps[i]`. */
export interface InspectHistory {
  /** The session these steps belong to; a new session starts an empty history. */
  sessionId: string | null;
  steps: number[];
  columns: Partial<Record<StepTensorKey, HistoryValue[]>>;
  /** Non-finite values seen so far, per key. */
  nonfinite: Partial<Record<StepTensorKey, number>>;
  /** Failed step attempts, in the order the trainer listed them. */
  failed: FailedStep[];
  /** The first step whose vector values the trainer still keeps (null: all, or not known yet). */
  vectorsFrom: number | null;
}

export const EMPTY_HISTORY: InspectHistory = {
  sessionId: null,
  steps: [],
  columns: {},
  nonfinite: {},
  failed: [],
  vectorsFrom: null,
};

/**
 * The history keys the page keeps for every step: the scalars (loss and the side list). Vector
 * keys ([D], [B], [L]) would multiply the size of a long session's history by a hundred, and the
 * page shows them for one step at a time only, so it asks for those one step at a time.
 */
export const SCALAR_HISTORY_KEYS: readonly StepTensorKey[] = (Object.keys(KEY_META) as StepTensorKey[]).filter(
  (key) => KEY_META[key].history && KEY_META[key].shape.length === 0,
);

/** The vector keys the page shows for a step whose full data is gone (its digit labels). */
export const ROW_HISTORY_KEYS: readonly StepTensorKey[] = [StepTensorKey.BATCH_LABELS];

/** The query of a history request: from `since`, at most `limit` steps, only `keys`. */
export function historyQuery(since: number, keys: readonly string[], limit?: number): string {
  const parts = [`since=${since}`];
  if (limit !== undefined) parts.push(`limit=${limit}`);
  if (keys.length) parts.push(`keys=${keys.map(encodeURIComponent).join(",")}`);
  return parts.join("&");
}

/**
 * `base` with the steps of `answer` that come after its last one appended (a column the answer
 * lacks is null for them, a column new in the answer is null before them), its non-finite counts
 * added, and its failed attempts replacing those at steps >= `answer.since` (the answer lists all
 * of those). Returns `base` itself when nothing changed.
 */
export function appendHistory(base: InspectHistory, answer: InspectHistoryResponse): InspectHistory {
  const failed = answer.failed
    ? base.failed.filter((attempt) => attempt.step < answer.since).concat(answer.failed)
    : base.failed;
  const vectorsFrom = answer.vectors_from ?? base.vectorsFrom;
  const last = base.steps.at(-1) ?? 0;
  const fresh = answer.steps.findIndex((step) => step > last);
  if (fresh < 0) {
    if (vectorsFrom === base.vectorsFrom && sameFailures(failed, base.failed)) return base;
    return { ...base, failed, vectorsFrom };
  }
  const columns: InspectHistory["columns"] = { ...base.columns };
  const width = base.steps.length;
  for (const [key, values] of Object.entries(answer.columns) as [StepTensorKey, HistoryValue[]][]) {
    const before = columns[key] ?? new Array<HistoryValue>(width).fill(null);
    columns[key] = before.concat(values.slice(fresh));
  }
  const added = answer.steps.length - fresh;
  for (const key of Object.keys(columns) as StepTensorKey[]) {
    if (!(key in answer.columns)) columns[key] = columns[key]!.concat(new Array<HistoryValue>(added).fill(null));
  }
  const nonfinite = { ...base.nonfinite };
  for (const [key, count] of Object.entries(answer.nonfinite) as [StepTensorKey, number][]) {
    nonfinite[key] = (nonfinite[key] ?? 0) + count;
  }
  return {
    sessionId: base.sessionId,
    steps: base.steps.concat(answer.steps.slice(fresh)),
    columns,
    nonfinite,
    failed,
    vectorsFrom,
  };
}

/**
 * Every attempt of `a` and of `b`, each as often as the list that has it most often (the state's
 * `failed_steps` and the history's `failed` describe the same attempts; either may be newer).
 */
export function mergeFailures(a: readonly FailedStep[], b: readonly FailedStep[]): FailedStep[] {
  if (b.length === 0) return a as FailedStep[];
  if (a.length === 0) return b as FailedStep[];
  const seen = new Map<string, number>();
  for (const attempt of a) seen.set(failureId(attempt), (seen.get(failureId(attempt)) ?? 0) + 1);
  const merged = a.slice();
  for (const attempt of b) {
    const id = failureId(attempt);
    const left = seen.get(id) ?? 0;
    if (left > 0) seen.set(id, left - 1);
    else merged.push(attempt);
  }
  return merged.sort((x, y) => x.step - y.step);
}

function failureId(attempt: FailedStep): string {
  return `${attempt.step}\u0000${attempt.error}\u0000${attempt.message}`;
}

function sameFailures(a: readonly FailedStep[], b: readonly FailedStep[]): boolean {
  return a.length === b.length && a.every((attempt, i) => failureId(attempt) === failureId(b[i]));
}
