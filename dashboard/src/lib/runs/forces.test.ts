import { describe, expect, it } from "vitest";

import { forcePoints, forceSummary, forcesFromHistory } from "./forces";

describe("forcePoints", () => {
  it("zips the three vectors per feature", () => {
    expect(forcePoints([1, 2], [3, null], new Float32Array([0.5, 0]))).toEqual([
      { feature: 0, grad: 1, som: 3, win: 0.5 },
      { feature: 1, grad: 2, som: Number.NaN, win: 0 },
    ]);
    expect(forcePoints(undefined, [1], [1])).toBeNull();
  });
});

describe("forcesFromHistory", () => {
  it("takes the newest step of the answer", () => {
    const history = {
      since: 4,
      steps: [4, 5],
      columns: { grad_magnitude: [[1], [2]], som_magnitude: [[3], [4]], win_rate: [[0.1], [0.2]] },
      nonfinite: {},
      more: false,
      vectors_from: 1,
      failed: [],
    };
    expect(forcesFromHistory("r", history)).toEqual({ runId: "r", step: 5, points: [{ feature: 0, grad: 2, som: 4, win: 0.2 }] });
  });
  it("is null without forces (control) or without steps", () => {
    const page = { nonfinite: {}, more: false, vectors_from: null, failed: [] };
    expect(forcesFromHistory("r", { ...page, since: 1, steps: [1], columns: { loss: [0.2] } })).toBeNull();
    expect(forcesFromHistory("r", { ...page, since: 1, steps: [], columns: {} })).toBeNull();
    // A step older than the vector history: its [D] rows are null.
    const old = { grad_magnitude: [null], som_magnitude: [null], win_rate: [null] };
    expect(forcesFromHistory("r", { ...page, since: 1, steps: [1], columns: old, vectors_from: 2 })).toBeNull();
  });
});

describe("forceSummary", () => {
  it("counts dead and winning features and averages the finite forces", () => {
    const s = forceSummary([
      { feature: 0, grad: 2, som: 1, win: 0.2 },
      { feature: 1, grad: 0, som: 3, win: 0 },
      { feature: 2, grad: 1, som: 2, win: 0.03 },
      { feature: 3, grad: Number.NaN, som: 9, win: 0.03 },
    ]);
    expect(s).toEqual({ dead: 1, winners: 1, total: 4, meanGrad: 1, meanSom: 2 });
  });
});
