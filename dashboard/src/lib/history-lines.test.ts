import { describe, expect, it } from "vitest";

import { commonKeys, formatOptions, formatRunDuration, historySeries } from "./history-lines";
import type { ArchiveHistory } from "./history-types";

const history = (over: Partial<ArchiveHistory> = {}): ArchiveHistory => ({
  since: 0,
  steps: [1, 2, 3],
  columns: { loss: [4, null, 1], cos: [0.1, 0.2, 0.3] },
  more: false,
  wall: [1000, 1000.5, 1002],
  keys: ["cos", "loss"],
  ...over,
});

describe("historySeries", () => {
  it("gives steps or seconds since the first step, with null as a gap", () => {
    const bySteps = historySeries(history(), "loss", "step")!;
    expect(Array.from(bySteps.xs)).toEqual([1, 2, 3]);
    expect(bySteps.ys[0]).toBe(4);
    expect(Number.isNaN(bySteps.ys[1])).toBe(true);
    expect(Array.from(historySeries(history(), "loss", "wall")!.xs)).toEqual([0, 0.5, 2]);
  });

  it("smooths like the runs page and knows no missing key", () => {
    const smoothed = historySeries(history(), "cos", "step", 0.5)!;
    expect(smoothed.ys[0]).toBeCloseTo(0.1);
    expect(smoothed.ys[2]).toBeLessThan(0.3);
    expect(historySeries(history(), "nope", "step")).toBeNull();
  });
});

describe("commonKeys", () => {
  it("keeps the keys every run has, the loss first", () => {
    expect(commonKeys([history(), history({ keys: ["loss", "z", "cos"] })])).toEqual(["loss", "cos"]);
    expect(commonKeys([])).toEqual([]);
  });
});

describe("formatting", () => {
  it("writes durations and options", () => {
    expect(formatRunDuration(65)).toBe("1:05");
    expect(formatRunDuration(3725)).toBe("1:02:05");
    expect(formatRunDuration(null)).toBe("–");
    expect(formatOptions({ steps: 10, levels: [1, 2] })).toBe("steps=10 levels=[1,2]");
  });
});
