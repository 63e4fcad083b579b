// Breakpoints and live edits of the free run ("run": /debug/*), the inspector session
// ("inspect": /inspect/*) and an attached loop ("model": its /debug/*, breakpoints only): the
// answers of their routes, and the verbs that change them. Views read the stores and call the
// verbs; the loop's own state (break reason, events) comes with its state in run-store.ts,
// inspect-store.ts and model-store.ts.
import { computed, map } from "nanostores";

import { deleteJSON, fetchJSON, postJSON } from "./api";
import { $inspectSession } from "./inspect-store";
import { $modelState } from "./model-store";
import { $run } from "./run-store";
import { errorDetail } from "./store-actions";
import type { BreakpointConfig, BreakpointsResponse, BreakReason, HparamsResponse, StepEvent } from "./steering-types";

export type SteeringTarget = "run" | "inspect" | "model";

const BASE: Record<SteeringTarget, string> = { run: "/debug", inspect: "/inspect", model: "/debug" };

/** What the views need of a loop's state: which loop, its step, why it last stopped, its events. */
export interface SteeringLoop {
  id: string;
  step: number;
  live: boolean;
  breakReason: BreakReason | null;
  events: readonly StepEvent[];
}

const NO_EVENTS: readonly StepEvent[] = [];

/** The free run as the breakpoint and edit views see it. */
export const $runLoop = computed($run, (run): SteeringLoop | null =>
  run
    ? {
        id: run.run_id,
        step: run.step,
        live: run.status === "running" || run.status === "paused",
        breakReason: run.break_reason ?? null,
        events: run.events ?? NO_EVENTS,
      }
    : null,
);

/** The inspector session as the breakpoint and edit views see it. */
export const $inspectLoop = computed($inspectSession, (session): SteeringLoop | null =>
  session
    ? {
        id: session.session_id,
        step: session.step,
        live: true,
        breakReason: session.break_reason ?? null,
        events: session.events ?? NO_EVENTS,
      }
    : null,
);

/** An attached loop (the model page) as the breakpoint views see it. */
export const $modelLoop = computed($modelState, (state): SteeringLoop | null =>
  state
    ? {
        id: "attached",
        step: state.step,
        live: !state.closed,
        breakReason: state.break_reason ?? null,
        events: state.events ?? NO_EVENTS,
      }
    : null,
);

/** The loop store of a target. */
export function loopStore(target: SteeringTarget): typeof $runLoop {
  return target === "run" ? $runLoop : target === "inspect" ? $inspectLoop : $modelLoop;
}

/** The last answer of each target's breakpoints route, and the last failure in words. */
export const $breakpoints = map<Record<SteeringTarget, BreakpointsResponse | null>>({ run: null, inspect: null, model: null });
export const $hparams = map<Record<SteeringTarget, HparamsResponse | null>>({ run: null, inspect: null, model: null });
export const $steeringError = map<Record<SteeringTarget, string | null>>({ run: null, inspect: null, model: null });

async function call<T>(target: SteeringTarget, work: () => Promise<T>): Promise<T | null> {
  try {
    const answer = await work();
    $steeringError.setKey(target, null);
    return answer;
  } catch (err) {
    $steeringError.setKey(target, errorDetail(err));
    return null;
  }
}

/** Re-reads the armed breakpoints and the editable hyper-parameters (quiet when there is no loop). */
export async function loadSteering(target: SteeringTarget): Promise<void> {
  // Each on its own: an attached loop has breakpoints but no hyper-parameters to edit.
  const [breakpoints, hparams] = await Promise.allSettled([
    fetchJSON<BreakpointsResponse>(`${BASE[target]}/breakpoints`),
    target === "model" ? Promise.reject(new Error("no knobs")) : fetchJSON<HparamsResponse>(`${BASE[target]}/hparams`),
  ]);
  $breakpoints.setKey(target, breakpoints.status === "fulfilled" ? breakpoints.value : null);
  $hparams.setKey(target, hparams.status === "fulfilled" ? hparams.value : null);
}

/** Arms exactly `config` (the conditions left null or false are off). */
export async function armBreakpoints(target: SteeringTarget, config: Partial<BreakpointConfig>): Promise<void> {
  const answer = await call(target, () => postJSON<BreakpointsResponse>(`${BASE[target]}/breakpoints`, config));
  if (answer) $breakpoints.setKey(target, answer);
}

/** Disarms every breakpoint and forgets the last break. */
export async function clearBreakpoints(target: SteeringTarget): Promise<void> {
  const answer = await call(target, () => deleteJSON<BreakpointsResponse>(`${BASE[target]}/breakpoints`));
  if (answer) $breakpoints.setKey(target, answer);
}

/** Asks for edits; they apply at the loop's next step boundary. */
export async function editHparams(target: SteeringTarget, changes: Record<string, number>): Promise<void> {
  const answer = await call(target, () => postJSON<HparamsResponse>(`${BASE[target]}/hparams`, changes));
  if (answer) $hparams.setKey(target, answer);
}
