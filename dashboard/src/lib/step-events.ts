// Pure helpers of the step-event markers (StepChart.StepEventMarkers): which events a chart
// window shows, one marker per step, and how each reads in its tooltip.
import type { StepEvent } from "./steering-types";

/** One marker: a step and every event at it, and whether a breakpoint is among them. */
export interface EventMarker {
  step: number;
  events: StepEvent[];
  kind: "breakpoint" | "hparam";
}

/** The events inside `lo..hi`, one marker per step, in step order. */
export function eventMarkers(events: readonly StepEvent[], lo: number, hi: number): EventMarker[] {
  const byStep = new Map<number, StepEvent[]>();
  for (const event of events) {
    if (event.step < lo || event.step > hi) continue;
    byStep.set(event.step, [...(byStep.get(event.step) ?? []), event]);
  }
  return [...byStep]
    .sort(([a], [b]) => a - b)
    .map(([step, at]) => ({ step, events: at, kind: at.some((e) => e.kind === "breakpoint") ? "breakpoint" : "hparam" }));
}

/** "lr 0.001 → 0.01", or "breakpoint loss_above". */
export function describeEvent(event: StepEvent): string {
  if (event.kind === "breakpoint") return `breakpoint ${event.name}`;
  return `${event.name} ${String(event.old)} → ${String(event.new)}`;
}
