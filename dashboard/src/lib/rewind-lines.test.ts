import { describe, expect, it } from "vitest";

import { StepTensorKey } from "./generated/tensor-keys";
import { EMPTY_HISTORY, type InspectHistory } from "./inspect-history";
import { branchLine, historyUpTo, seriesUpTo } from "./rewind-lines";
import { appendSteps, emptySeries } from "./runs/series";

const history: InspectHistory = {
  ...EMPTY_HISTORY,
  sessionId: "s1",
  steps: [1, 2, 3, 4, 5],
  columns: { [StepTensorKey.LOSS]: [0.5, 0.4, 0.3, 0.2, 0.1] },
  failed: [
    { step: 2, error: "RuntimeError", message: "a" },
    { step: 4, error: "RuntimeError", message: "b" },
  ],
};

describe("historyUpTo", () => {
  it("drops the steps after the one gone back to, their values and failed attempts", () => {
    const kept = historyUpTo(history, 3);
    expect(kept.steps).toEqual([1, 2, 3]);
    expect(kept.columns[StepTensorKey.LOSS]).toEqual([0.5, 0.4, 0.3]);
    expect(kept.failed.map((attempt) => attempt.step)).toEqual([2]);
    expect(kept.sessionId).toBe("s1");
  });

  it("answers the same object when nothing is dropped, and an empty one for step 0", () => {
    expect(historyUpTo(history, 5)).toBe(history);
    expect(historyUpTo(history, 0).steps).toEqual([]);
  });
});

describe("seriesUpTo", () => {
  it("keeps the steps up to the one gone back to, and later steps append after it", () => {
    const series = appendSteps(emptySeries("r1"), { run_id: "r1", steps: [1, 2, 3, 4], loss: [4, 3, 2, 1] });
    const kept = seriesUpTo(series, 2);
    expect(kept.length).toBe(2);
    expect(Array.from(kept.loss)).toEqual([4, 3]);
    expect(Array.from(series.loss.subarray(0, 4))).toEqual([4, 3, 2, 1]); // the old one is intact
    const again = appendSteps(kept, { run_id: "r1", steps: [3, 4], loss: [9, 8] });
    expect(Array.from(again.steps.subarray(0, again.length))).toEqual([1, 2, 3, 4]);
    expect(Array.from(again.loss.subarray(0, again.length))).toEqual([4, 3, 9, 8]);
  });
});

describe("branchLine", () => {
  it("turns a branch's history into a line, NaN where a loss is missing", () => {
    const line = branchLine(
      { id: 2, fork_step: 3, label: "from step 3", first_step: 4, last_step: 6, steps: 3, held: [4, 5, 6], created: 0 },
      { since: 0, steps: [4, 5, 6], columns: { loss: [0.3, null, 0.1] }, nonfinite: {}, more: false, vectors_from: null, failed: [] },
    );
    expect(line.id).toBe(2);
    expect(line.forkStep).toBe(3);
    expect(Array.from(line.steps)).toEqual([4, 5, 6]);
    expect(line.losses[0]).toBeCloseTo(0.3);
    expect(Number.isNaN(line.losses[1])).toBe(true);
  });

  it("starts at the fork step when its loss is known", () => {
    const branch = { id: 1, fork_step: 3, label: "from step 3", first_step: 4, last_step: 4, steps: 1, held: [], created: 0 };
    const answer = { since: 0, steps: [4], columns: { loss: [0.2] }, nonfinite: {}, more: false, vectors_from: null, failed: [] };
    expect(Array.from(branchLine(branch, answer, 0.25).steps)).toEqual([3, 4]);
    expect(Array.from(branchLine(branch, answer, null).steps)).toEqual([4]);
  });
});
