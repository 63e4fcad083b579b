import { describe, expect, it } from "vitest";

import { decimate } from "../downsample";
import { appendSteps, emptySeries, lastStep, lastValue } from "./series";

const event = (run_id: string, steps: number[], loss?: (number | null)[]) => ({
  run_id,
  steps,
  loss: loss ?? steps.map((s) => 1 / s),
  weight_cosine_mean: steps.map(() => 0.5),
});

describe("appendSteps", () => {
  it("appends in order and keeps earlier snapshots intact", () => {
    const a = appendSteps(emptySeries(), event("r1", [1, 2, 3]));
    expect(a.runId).toBe("r1");
    expect(a.length).toBe(3);
    expect(lastStep(a)).toBe(3);
    const b = appendSteps(a, event("r1", [4, 5]));
    expect(b.length).toBe(5);
    expect(Array.from(b.steps.subarray(0, 5))).toEqual([1, 2, 3, 4, 5]);
    expect(a.length).toBe(3); // the old object still reads its own first three
    expect(lastValue(b, "loss")).toBeCloseTo(0.2);
  });

  it("skips steps it already has (a reconnected stream starts again from step 1)", () => {
    const a = appendSteps(emptySeries(), event("r1", [1, 2, 3]));
    const b = appendSteps(a, event("r1", [1, 2, 3, 4]));
    expect(Array.from(b.steps.subarray(0, b.length))).toEqual([1, 2, 3, 4]);
    expect(appendSteps(b, event("r1", [2, 3]))).toBe(b);
  });

  it("starts over for another run", () => {
    const a = appendSteps(emptySeries(), event("r1", [1, 2, 3]));
    const b = appendSteps(a, event("r2", [1]));
    expect(b.runId).toBe("r2");
    expect(b.length).toBe(1);
  });

  it("grows past its capacity and turns null into NaN", () => {
    let s = emptySeries();
    for (let k = 0; k < 30; k++) {
      const steps = Array.from({ length: 100 }, (_, i) => k * 100 + i + 1);
      s = appendSteps(s, event("r", steps, steps.map((x) => (x === 1500 ? null : x))));
    }
    expect(s.length).toBe(3000);
    expect(s.steps[2999]).toBe(3000);
    expect(s.loss[1498]).toBe(1499);
    expect(Number.isNaN(s.loss[1499])).toBe(true);
  });
});

describe("decimate", () => {
  it("returns short series unchanged", () => {
    expect(decimate([1, 2, 3], [3, 1, 2], 3, 10)).toEqual({ x: [1, 2, 3], y: [3, 1, 2] });
    expect(decimate([1, 2, 3], [3, 1, 2], 2, 10)).toEqual({ x: [1, 2], y: [3, 1] });
  });

  it("keeps spikes and gaps of long series within about 3 points per bucket", () => {
    const n = 10_000;
    const xs = Array.from({ length: n }, (_, i) => i + 1);
    const ys = xs.map((x) => (x === 5000 ? 100 : x === 7000 ? -100 : x === 8000 ? Number.NaN : Math.sin(x / 100)));
    const out = decimate(xs, ys, n, 100);
    expect(out.x.length).toBeLessThanOrEqual(400);
    expect(out.y).toContain(100);
    expect(out.y).toContain(-100);
    expect(out.y.some((v) => Number.isNaN(v))).toBe(true);
    // x stays increasing
    for (let i = 1; i < out.x.length; i++) expect(out.x[i]).toBeGreaterThan(out.x[i - 1]);
    expect(out.x[0]).toBe(1);
  });
});
