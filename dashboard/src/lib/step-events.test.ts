import { describe, expect, it } from "vitest";

import { describeEvent, eventMarkers } from "./step-events";
import type { StepEvent } from "./steering-types";

const lr: StepEvent = { step: 11, kind: "hparam", name: "lr", old: 0.001, new: 0.01 };
const som: StepEvent = { step: 11, kind: "hparam", name: "som_lr", old: 0.005, new: 0.02 };
const fired: StepEvent = { step: 20, kind: "breakpoint", name: "nonfinite", old: null, new: 64 };

describe("eventMarkers", () => {
  it("groups the events of a step into one marker, a breakpoint marking it as such", () => {
    const markers = eventMarkers([fired, lr, som], 0, 100);
    expect(markers.map((m) => [m.step, m.kind, m.events.length])).toEqual([
      [11, "hparam", 2],
      [20, "breakpoint", 1],
    ]);
  });

  it("leaves out the events outside the window", () => {
    expect(eventMarkers([lr, fired], 12, 19)).toEqual([]);
    expect(eventMarkers([lr, fired], 20, 30).map((m) => m.step)).toEqual([20]);
  });
});

describe("describeEvent", () => {
  it("reads an edit as old → new and a breakpoint by its condition", () => {
    expect(describeEvent(lr)).toBe("lr 0.001 → 0.01");
    expect(describeEvent(fired)).toBe("breakpoint nonfinite");
  });
});
