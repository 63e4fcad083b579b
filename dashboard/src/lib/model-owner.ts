// Who holds the trainer's model, read from an `/inspect/state` answer: the inspector page only
// reads the state when it opens, and when something else (a free run) holds the model it says so
// and offers to release it. Pure functions; inspect-store.ts holds the state.
import type { InspectState, ModelOwner } from "./inspect-types";

export const FREE_RUN = "free run";
export const INSPECTOR_SESSION = "inspector session";

const OWNER_SENTENCE = /^the (free run|inspector session)(?:\s+(\S+))?$/;

/** The owner of `state`: its `owner_detail`, else parsed from the `owner` sentence; null when free. */
export function ownerOf(state: InspectState | null): ModelOwner | null {
  if (!state || !state.owner) return null;
  const detail = state.owner_detail;
  if (detail && typeof detail.kind === "string") return detail;
  const match = OWNER_SENTENCE.exec(state.owner.trim());
  if (match) return { kind: match[1], id: match[2] ?? "", name: state.owner };
  return { kind: "", id: "", name: state.owner };
}

/**
 * The owner that keeps the inspector from setting up a session, or null: nobody, or the page's
 * own session (a state with an active session is held by that session).
 */
export function blockingOwner(state: InspectState | null): ModelOwner | null {
  if (!state || state.active) return null;
  const owner = ownerOf(state);
  if (!owner || owner.kind === INSPECTOR_SESSION) return null;
  return owner;
}

/** Whether the page can release `owner` itself (a free run: `POST /runs/stop`). */
export function canRelease(owner: ModelOwner | null): boolean {
  return owner?.kind === FREE_RUN;
}

/** An id cut to its first `keep` characters and an ellipsis ("3fa2c1…"). */
export function shortId(id: string, keep = 6): string {
  return id.length > keep + 1 ? `${id.slice(0, keep)}…` : id;
}

/** "the free run 3fa2c1…": the owner's name with its id shortened. */
export function ownerLabel(owner: ModelOwner): string {
  if (owner.kind && owner.id) return `the ${owner.kind} ${shortId(owner.id)}`;
  return owner.name;
}
