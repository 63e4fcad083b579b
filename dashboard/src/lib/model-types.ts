// Mirrors the attached loop's answers (acc/api/attached.py, docs/attach.md). Keep the two in step.
import type { TensorGridHeader } from "./tensor-grid-types";
import type { RankRow } from "./rank-types";
import type { BreakReason, StepEvent } from "./steering-types";

/** Where a NaN or an infinity was first seen: the step, the name holding it and how many. */
export interface ModelNonFinite {
  step: number;
  key: string;
  count?: number;
  /** The leaf module whose output held it (activations are checked first, in forward order). */
  module?: string;
  /** The parameter whose weight or gradient held it. */
  parameter?: string;
  /** An earlier step whose scalars were non-finite before the source was found. */
  first_seen?: number;
}

/** `GET /debug/state` of an attached loop (also the `state` event of `/model/events`). */
export interface ModelState {
  attached: true;
  step: number;
  paused: boolean;
  blocked: boolean;
  stop_requested: boolean;
  closed: boolean;
  steps_granted: number;
  capture_every: number;
  last_full_step: number | null;
  retained: [number, number] | null;
  first_nonfinite: ModelNonFinite | null;
  model: string;
  parameters: number;
  parameter_count: number;
  steps_per_second: number;
  /** Every rank of a distributed job (docs/distributed.md); null for a loop in one process. */
  ranks?: RankRow[] | null;
  /** The last breakpoint that fired (docs/breakpoints.md); null when none has. */
  break_reason?: BreakReason | null;
  /** The newest step events (breakpoints). */
  events?: StepEvent[];
  step_data_keys?: string[];
}

/** One parameter's row of the layer table (null: not measured, or not finite). */
export interface ParameterRow {
  name: string;
  module: string;
  shape: number[];
  numel: number;
  weight_norm: number | null;
  grad_norm: number | null;
  update_norm: number | null;
  update_ratio: number | null;
  weight_nonfinite: number | null;
  grad_nonfinite: number | null;
}

/** One leaf module's activation statistics of the step's training forward pass. */
export interface ModuleRow {
  name: string;
  kind: string;
  mean: number | null;
  std: number | null;
  zero_fraction: number | null;
  nonfinite: number | null;
}

/** `GET /model/layers` */
export interface ModelLayers {
  step: number | null;
  parameter_fields: string[];
  activation_fields: string[];
  parameters: ParameterRow[];
  modules: ModuleRow[];
  first_nonfinite: ModelNonFinite | null;
}

/** `GET /model/history`: steps and one column per name (null where a step did not keep it). */
export interface ModelHistory {
  steps: number[];
  columns: Record<string, (number | null)[]>;
  more: boolean;
}

/** `GET /model/histograms`: |weight| counts in fixed bins (zeros first) at each step kept. */
export interface ModelHistograms {
  parameter: string;
  /** Lower edge of each magnitude bin (bin 0, the zeros, has none). */
  edges: number[];
  steps: number[];
  counts: number[][];
  more: boolean;
}

/** `GET /model/heatmap`: a tensor reduced to at most rows × cols cells. */
export interface ModelHeatmap extends TensorGridHeader {
  min: (number | null)[][];
  max: (number | null)[][];
  mean: (number | null)[][];
  value_range: [number, number] | null;
}
