// Mirrors the trainer's `/inspect/*` answers (docs/http_api.md; acc/api/inspect.py,
// acc/session.py `SessionState`, acc/tensor_wire.py). Keep the two in step. Tensor key names come
// from the generated vocabulary, never from here.
import type { BranchSummary } from "./rewind-types";
import type { StepTensorKey } from "./generated/tensor-keys";
import type { BreakReason, StepEvent } from "./steering-types";

/** A step that raised inside the trainer; the session survives it. */
export interface FailedStep {
  step: number;
  /** Python exception type, e.g. "RuntimeError". */
  error: string;
  message: string;
}

/** The first step and key (in capture order) that held a NaN or an infinity, and how many. */
export interface FirstNonFinite {
  step: number;
  key: StepTensorKey;
  count: number;
}

/** Who holds the trainer's model, as `owner_detail` gives it (acc/model_seat.py `Owner`). */
export interface ModelOwner {
  /** "inspector session" or "free run" (another kind may come later). */
  kind: string;
  /** The session id or the run id. */
  id: string;
  /** The sentence `owner` holds: "the free run 3fa2c1d4e5f6". */
  name: string;
}

/** Fields every `/inspect/state` answer has, with or without a session. */
interface InspectStateBase {
  /** The conditions of the recipe: control, bcl-micro, bcl-tiny, bcl-slow, bcl-med, bcl-fast. */
  conditions: string[];
  /** Who holds the model right now ("the inspector session 1a2b…", "the free run 3fa2…"); null when nobody. */
  owner: string | null;
  /** `owner` as its kind and id (absent from older trainers). */
  owner_detail?: ModelOwner | null;
}

/** `GET /inspect/state` (and `POST /inspect/teardown`) with no session. */
export interface InspectStateInactive extends InspectStateBase {
  active: false;
  recipes: string[];
  default_condition: string;
  /** Only in the teardown answer: the id of the session that was ended, or null. */
  torn_down?: string | null;
}

/** `GET /inspect/state` and `POST /inspect/setup` while a session exists. */
export interface InspectStateActive extends InspectStateBase {
  active: true;
  session_id: string;
  recipe: string;
  condition: string;
  seed: number;
  /** torch device: "cpu", "cuda:0", ... */
  device: string;
  /** D, the number of features. */
  model_dim: number;
  /** The recipe options in effect (`dim`: the width D). */
  options?: Record<string, number | boolean | null>;
  /** [C, H, W] of one input image. */
  image_shape: number[];
  batch_size: number;
  /** Steps completed; 0 right after setup. */
  step: number;
  /** Steps committed (the history holds the most recent of them). */
  history_steps: number;
  /** Scalars are kept for this many recent steps. */
  max_history_steps: number;
  /** [D], [B] and [L] vectors are kept for this many recent steps. */
  max_vector_history: number;
  /** Bytes the history arrays take now. */
  history_bytes: number;
  /** First and last step whose full tensors are held; null before the first step. */
  retained: [number, number] | null;
  max_full_snapshots: number;
  snapshot_bytes: number;
  max_snapshot_bytes: number;
  /** Steps requested and not finished yet. */
  pending_steps: number;
  /** The last breakpoint that fired; null when none has (docs/breakpoints.md). */
  break_reason?: BreakReason | null;
  /** The newest step events: live edits and breakpoints. */
  events?: StepEvent[];
  /** The most recent failed step attempts. */
  failed_steps: FailedStep[];
  /** Where NaN/Inf first appeared in the session; null while every value was finite. */
  first_nonfinite: FirstNonFinite | null;
  /** The steps a rewind can go back to (their restore points are held; docs/rewind.md). */
  rewindable?: number[];
  restore_bytes?: number;
  max_restore_bytes?: number;
  /** The branches earlier rewinds left, oldest first. */
  branches?: BranchSummary[];
}

export type InspectState = InspectStateActive | InspectStateInactive;

/** `POST /inspect/setup` body. */
export interface InspectSetupRequest {
  condition: string;
  seed?: number;
  /** The recipe's options: `dim`, the width D (MIN_BCL_DIM..MAX_BCL_DIM). */
  options?: { dim?: number };
}

/** `POST /inspect/step` body: run n steps (1..500) and answer with the last one. */
export interface InspectStepRequest {
  n: number;
}

/** One history cell: a scalar, a [D]/[B] vector, or null where the value was NaN/Inf. */
export type HistoryValue = number | null | (number | null)[];

/**
 * `GET /inspect/history?since=K&limit=N&keys=a,b` (and `/runs/history`): at most N (1..10000,
 * default 10000) steps >= K, one column per history key (only `keys` when given).
 */
export interface InspectHistoryResponse {
  since: number;
  steps: number[];
  /** Per key, one value per entry of `steps`; a vector row older than `vectors_from` is null. */
  columns: Partial<Record<StepTensorKey, HistoryValue[]>>;
  /** Keys with non-finite values in these steps, and how many. */
  nonfinite: Partial<Record<StepTensorKey, number>>;
  /** Steps after the last one here exist: ask again with since = last + 1. */
  more: boolean;
  /** The first step whose vector ([D], [B], [L]) values are still kept; scalars are kept for all. */
  vectors_from: number | null;
  /** Failed step attempts numbered >= since (the next good step may later get the same number). */
  failed: FailedStep[];
}

// ---- binary frame (architecture.md "Wire format"; reference decoder: acc/tensor_wire.py) ----

export type FrameDtype = "float32" | "int32";

export interface FrameTensorSpec {
  dtype: FrameDtype;
  shape: number[];
  /** Byte offset from the start of the data section (8-byte aligned). */
  offset: number;
  nbytes: number;
}

/** A tensor the step holds but its frame leaves out (over the frame's byte budget): read it per view. */
export interface FrameDeferredSpec {
  dtype: FrameDtype;
  shape: number[];
  nbytes: number;
}

export interface FrameImageSpec {
  format: "png";
  /** How many images are tiled. */
  count: number;
  /** Tiles per row. */
  columns: number;
  /** [height, width] of one tile, in pixels. */
  tile: [number, number];
  /** Pixels between tiles and around the grid. */
  padding: number;
  offset: number;
  nbytes: number;
}

/** The JSON header of a frame. */
export interface FrameHeader {
  step: number;
  /** Every key the step holds, derived ones included. */
  keys: StepTensorKey[];
  /** Every 0-d value; null where it is NaN/Inf (the tensor bytes keep the real value). */
  scalars: Partial<Record<StepTensorKey, number | null>>;
  nonfinite: Partial<Record<StepTensorKey, number>>;
  tensors: Partial<Record<StepTensorKey, FrameTensorSpec>>;
  images: Partial<Record<StepTensorKey, FrameImageSpec>>;
  /** Keys left out of the frame, each with the keys it is the sum of, in derivation order. */
  derived: [StepTensorKey, StepTensorKey[]][];
  /** Keys the step holds that did not fit the frame's byte budget; `{step}/tensor/{key}` reads them. */
  deferred?: Partial<Record<StepTensorKey, FrameDeferredSpec>>;
  session_id: string;
  condition: string;
}
