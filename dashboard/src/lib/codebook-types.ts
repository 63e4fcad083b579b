// Mirrors the trainer's `/codebook/*` answers (acc/api/codebook.py, acc/vq/health.py,
// acc/vq/monitor.py, acc/vq/capture.py) and the run state of `/runs/*` that the codebook page
// reads (docs/http_api.md, "Free runs"; its types are in runs-types.ts). Keep them in step.
import type { RunStateActive } from "./runs-types";

export type CodebookCondition = "ema" | "learned" | "collapse";

/** The run as `GET /runs/current` (and the `state` server-sent event) describes it: any free run. */
export type CodebookRun = RunStateActive;

/** The form's fields: the body of `POST /codebook/start` (all optional on the wire). */
export interface CodebookForm {
  condition: CodebookCondition;
  levels: number;
  commitment: number;
  wasserstein_weight: number;
  wasserstein_epsilon: number;
  revive: boolean;
  steps: number;
}

export interface StartCodebookRequest extends CodebookForm {
  seed?: number;
  capture_every?: number;
  paused?: boolean;
}

/** The run's setup (`config` of `GET /codebook/state` and of the start answer). */
export interface CodebookConfig {
  levels: number;
  num_codes: number;
  num_codes_rule: string;
  auto_num_codes: boolean;
  code_dim: number;
  kind: "ema" | "learned";
  commitment: number;
  wasserstein_weight: number;
  wasserstein_epsilon: number;
  revive: boolean;
  batch_size: number;
  lr: number;
}

/** `GET /codebook/state`. */
export interface CodebookStateResponse {
  conditions: CodebookCondition[];
  defaults: CodebookForm & { capture_every: number };
  auto_num_codes: number;
  num_codes_rule: string;
  rules: Record<string, string>;
  /** The current run when it is a VQ-VAE run (else null). */
  run: CodebookRun | null;
  config: CodebookConfig | null;
}

/** `POST /codebook/start`: the run's state plus its config. */
export type StartCodebookResponse = CodebookRun & { config: CodebookConfig };

/** One level of `GET /codebook/health`. */
export interface LevelHealth {
  level: number;
  utilisation: number;
  /** exp(entropy) of the window's usage. */
  perplexity: number;
  normalised_perplexity: number;
  batch_perplexity: number;
  dead_codes: number;
  /** More dead codes now than one window ago. */
  dead_rising: boolean;
  /** Code counts over the window (the usage histogram). */
  counts: number[];
  /** ‖C_t − C_{t−1}‖_F / √(K·dim) of the last step (latent units); null at step 1 (no previous
   * codebook) and for a value that was not finite. */
  codebook_drift: number | null;
  /** Mean of `codebook_drift` over the window's steps. */
  codebook_drift_mean: number | null;
  /** The last batch's mean over vectors of min_k ‖z − c_k‖² (squared latent units), z the
   * level's input (the residual left by the levels before it). */
  quantisation_error: number | null;
  /** Mean of `quantisation_error` over the window's batches. */
  quantisation_error_mean: number | null;
}

/** `GET /codebook/health`. */
export interface CodebookHealth {
  run_id: string;
  step: number;
  window: number;
  batches_in_window: number;
  dead_fraction: number;
  low_utilisation: number;
  /** Utilisation warnings start after this many steps. */
  warmup_steps?: number;
  rules: Record<string, string>;
  levels: LevelHealth[];
  warnings: string[];
  /** The newest validation pass: usage per level and code counts `[L][K]`. */
  validation: { step: number; usage: number[]; counts: number[][] } | null;
}

export interface ValidationPoint {
  step: number;
  loss: number;
  reconstruction: number;
  commitment: number;
  usage: number[];
}

/** `GET /codebook/history?since=K`: per-step columns (null where a value was not finite). */
export interface CodebookHistoryResponse {
  run_id: string;
  since: number;
  steps: number[];
  loss?: (number | null)[];
  reconstruction?: (number | null)[];
  commitment?: (number | null)[];
  codebook?: (number | null)[];
  wasserstein?: (number | null)[];
  /** `[S][L]`; a whole row is null for steps older than the trainer's vector history window. */
  perplexity?: ((number | null)[] | null)[];
  /** `[S][L]`: the share of codes used in each batch (null rows as for perplexity). */
  usage?: ((number | null)[] | null)[];
  /** `[S][L]`: each step's codebook drift; null rows at step 1 and older than 20,000 steps. */
  drift?: ((number | null)[] | null)[];
  /** `[S][L]`: each batch's quantisation error (null rows older than 20,000 steps). */
  quantisation_error?: ((number | null)[] | null)[];
  validation: ValidationPoint[];
}

export interface Trajectory {
  level: number;
  steps: number[];
  /** `[K][S][2]`: each code's 2-D position at each snapshot. */
  points: number[][][];
  dead: boolean[];
  projection: string | null;
}

/** `GET /codebook/dynamics?level=N`. */
export interface CodebookDynamics {
  run_id: string;
  kind: "ema" | "learned";
  trajectory: Trajectory;
  /** Per-code gradient-norm EMA (learned codebooks), else null. */
  grad_ema: number[] | null;
  grad_alpha: number;
  /** The quantizer's EMA count per code (EMA codebooks), else null. */
  ema_cluster_sizes: number[] | null;
  counts: number[];
  snapshot_every: number;
}

export interface PngGrid {
  format: "png";
  count: number;
  columns: number;
  codes: number[];
  /** base64 PNG */
  data: string;
}

/** `GET /codebook/decoded`. */
export interface CodebookDecoded {
  run_id: string;
  step: number;
  level1: PngGrid;
  combinations: (PngGrid & { level1_codes: number[]; level2_codes: number[] }) | null;
}

export interface RevivalEvent {
  step: number;
  level: number;
  code: number;
  old_count: number;
  source: string;
}

/** `GET /codebook/events?since=K`. */
export interface CodebookEventsResponse {
  run_id: string;
  revive: boolean;
  events: RevivalEvent[];
}
