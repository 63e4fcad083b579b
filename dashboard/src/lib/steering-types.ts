// Breakpoints and live edits on the wire: mirrors docs/http_api.md ("Breakpoints and live
// edits") and docs/breakpoints.md.

/** One thing that happened to a loop at a step besides training it (`acc.step_events.StepEvent`). */
export interface StepEvent {
  /** The first step it affects (an edit) or the step where it happened (a breakpoint). */
  step: number;
  /** "hparam": a live edit; "breakpoint": a breakpoint fired. */
  kind: string;
  /** The knob or the condition. */
  name: string;
  old: number | string | boolean | null;
  new: number | string | boolean | null;
}

/** Why a loop stopped (`acc.breakpoints.BreakReason`). */
export interface BreakReason {
  condition: string;
  step: number;
  value: number | null;
  /** For `nonfinite`: where it showed first, e.g. "encoder.0 output". */
  where: string | null;
  threshold: number | null;
  message: string;
}

/** The armed conditions; null (or false) leaves one off. */
export interface BreakpointConfig {
  nonfinite: boolean;
  loss_above: number | null;
  loss_spike: number | null;
  grad_norm_above: number | null;
  dead_fraction_above: number | null;
}

/** `GET|POST|DELETE /debug/breakpoints` and `/inspect/breakpoints`. */
export interface BreakpointsResponse {
  armed: boolean;
  breakpoints: BreakpointConfig;
  break_reason: BreakReason | null;
  conditions: string[];
}

/** One editable hyper-parameter of the live setup. */
export interface Knob {
  name: string;
  value: number;
  low: number;
  high: number;
  help: string;
}

/** `GET|POST /debug/hparams` and `/inspect/hparams`. */
export interface HparamsResponse {
  knobs: Knob[];
  /** Edits asked for and not applied yet (they apply at the next step boundary). */
  pending: Record<string, number>;
  events: StepEvent[];
}
