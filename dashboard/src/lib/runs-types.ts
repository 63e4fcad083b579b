// Mirrors the trainer's `/runs/*` and `/debug/*` answers (docs/http_api.md, "Free runs" and
// "Debugging a free run"; acc/api/runs.py, acc/api/debug.py, acc/free_run.py `RunState`,
// acc/debug_controller.py). Keep the two in step.
import type { BranchSummary } from "./rewind-types";
import type { FirstNonFinite } from "./inspect-types";
import type { BreakReason, StepEvent } from "./steering-types";

export type RunStatus = "running" | "paused" | "completed" | "stopped" | "failed";

/** Statuses after which the run no longer trains (its captures stay readable). */
export const FINAL_STATUSES: readonly RunStatus[] = ["completed", "stopped", "failed"];

/** A recipe's conditions and the one a new run takes by default. */
export interface RecipeConditions {
  conditions: string[];
  default_condition: string;
}

/** What every `/runs/*` state answer lists, whatever the current run's recipe. */
export interface RecipeCatalogue {
  recipes: string[];
  recipe_conditions: Record<string, RecipeConditions>;
}

/** `GET /runs/current` (and the answer of every control route) with no run started yet. */
export interface RunStateInactive extends RecipeCatalogue {
  active: false;
  conditions: string[];
  default_condition: string;
}

/** `GET /runs/current` once a run was started (it stays readable after it ends). */
export interface RunStateActive extends RecipeCatalogue {
  active: true;
  run_id: string;
  recipe: string;
  condition: string;
  seed: number;
  /** The steps asked for. */
  steps: number;
  capture_every: number;
  status: RunStatus;
  /** The last finished step. */
  step: number;
  /** True once a paused loop is actually waiting at the step boundary. */
  blocked: boolean;
  /** The newest step with a full capture; null before the first one. */
  last_full_step: number | null;
  /** First and last step whose full tensors are held. */
  retained: [number, number] | null;
  model_dim: number;
  /** "Type: message" when the run failed. */
  error: string | null;
  traceback: string | null;
  /** Epoch seconds. */
  started_at: number;
  finished_at: number | null;
  steps_per_second: number;
  /** Where NaN/Inf first appeared in the run; null while every value was finite. */
  first_nonfinite: FirstNonFinite | null;
  /** The conditions of this run's recipe. */
  conditions: string[];
  watched: number[];
  /** The last breakpoint that fired; null when none has (docs/breakpoints.md). */
  break_reason?: BreakReason | null;
  /** The newest step events: live edits and breakpoints. */
  events?: StepEvent[];
  /** The steps a rewind can go back to while paused (docs/rewind.md). */
  rewindable?: number[];
  /** The branches earlier rewinds left, oldest first. */
  branches?: BranchSummary[];
  /** The trainer's change count when it read this state: a state read later never has a lower one. */
  version: number;
}

export type RunState = RunStateActive | RunStateInactive;

/** `POST /runs` body; every field optional on the wire. */
export interface StartRunRequest {
  recipe: string;
  condition: string;
  steps: number;
  seed: number;
  capture_every: number;
  paused?: boolean;
  /** The recipe's options (gradient_gating_l0: `dim`, the width D). */
  options?: { dim?: number };
}

/** The `steps` server-sent event: every step finished since the previous one, in order. */
export interface RunStepsEvent {
  run_id: string;
  steps: number[];
  /** One per step; null where the value was NaN/Inf. */
  loss?: (number | null)[];
  weight_cosine_mean?: (number | null)[];
  /** The run went back to this step: drop the steps after it before adding these. */
  rewound_to?: number;
}

/** `GET /debug/force_detail?feature=k`: 28×28 images as nested lists (null when absent). */
export interface ForceDetail {
  step: number;
  feature: number;
  weight: number[][] | null;
  opt_delta: number[][] | null;
  som_delta: number[][] | null;
  combined_delta: number[][] | null;
  /** Cosine between the optimizer (gradient) update and the SOM update; null without BCL. */
  grad_som_cosine: number | null;
  grad_magnitude: number | null;
  som_magnitude: number | null;
  win_rate: number | null;
}

/** `GET/POST /debug/watch`. */
export interface WatchResponse {
  watched: number[];
  max_watched: number;
}

/** The per-feature trajectory fields, in the trainer's order. */
export const TRAJECTORY_FIELDS = [
  "weight_cos_to_init",
  "win_rate",
  "grad_magnitude",
  "som_magnitude",
  "feature_novelty",
] as const;

export type TrajectoryField = (typeof TRAJECTORY_FIELDS)[number];

/** One feature's trajectory: `step[i]` goes with every field's `[i]` (null for NaN/Inf). */
export type FeatureTrajectory = { step: number[] } & Partial<Record<TrajectoryField, (number | null)[]>>;

/** `GET /debug/trajectories` (and `POST /debug/trajectories/clear`). */
export interface TrajectoriesResponse {
  run_id: string;
  fields: string[];
  watched: number[];
  /** Keyed by the feature index as a string; a feature no longer watched keeps its trajectory. */
  features: Record<string, FeatureTrajectory>;
  /** The order of `similarity`'s rows and columns. */
  similarity_features: number[];
  /** Cosine of the watched features' weights at the last recorded step; null before one. */
  similarity: (number | null)[][] | null;
  max_points: number;
}
