// What the page stores share around their calls to the trainer: the failed-call record the error
// banners show, and the busy flag that keeps one control action in flight at a time.
import type { WritableAtom } from "nanostores";

import { ApiError } from "./api";

/** A failed call, for a page's error banner. */
export interface ActionError {
  /** What the user was doing: "Step ×10", "Load step 12", ... */
  action: string;
  status: number;
  code: string;
  detail: string;
  traceback: string | null;
  at: number;
}

/** The trainer's explanation of a failure, else the error's message. */
export function errorDetail(err: unknown): string {
  if (err instanceof ApiError) return err.detail || err.message;
  return err instanceof Error ? err.message : String(err);
}

/** The banner's record of `err`, thrown while doing `action`. */
export function actionError(action: string, err: unknown): ActionError {
  const api = err instanceof ApiError ? err : null;
  return {
    action,
    status: api?.status ?? 0,
    code: api?.error ?? (err instanceof Error ? err.name : "error"),
    detail: errorDetail(err),
    traceback: api?.traceback ?? null,
    at: Date.now(),
  };
}

/**
 * Runs `work` with `$busy` set to `busy`, and clears it after (also on a throw). Does nothing and
 * answers false while another action holds the flag.
 */
export async function whileBusy<B>($busy: WritableAtom<B | null>, busy: B, work: () => Promise<void>): Promise<boolean> {
  if ($busy.get()) return false;
  $busy.set(busy);
  try {
    await work();
  } finally {
    $busy.set(null);
  }
  return true;
}
