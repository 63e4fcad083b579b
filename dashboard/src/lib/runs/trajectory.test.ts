import { describe, expect, it } from "vitest";

import type { RunStateActive, TrajectoriesResponse } from "../runs-types";
import {
  exportFileName,
  meanOffDiagonal,
  parseFeatureIds,
  shownFeatures,
  similarityMatrix,
  trajectoryExport,
  trajectoryLines,
  withFeature,
  withoutFeature,
} from "./trajectory";

const trajectories: TrajectoriesResponse = {
  run_id: "r1",
  fields: ["weight_cos_to_init", "win_rate", "grad_magnitude", "som_magnitude", "feature_novelty"],
  watched: [15, 0],
  features: {
    "0": { step: [1, 2, 3], win_rate: [0.1, null, 0.3], weight_cos_to_init: [1, 0.99, 0.98] },
    "7": { step: [1], win_rate: [0.5] },
    "15": { step: [2, 3], win_rate: [0.2, 0.25] },
  },
  similarity_features: [15, 0],
  similarity: [
    [1, 0.4],
    [0.4, 1],
  ],
  max_points: 10000,
};

describe("trajectoryLines", () => {
  it("puts watched features first, then kept ones, one line each", () => {
    expect(shownFeatures(trajectories, [15, 0])).toEqual([15, 0, 7]);
    const lines = trajectoryLines(trajectories, [15, 0], "win_rate");
    expect(lines.map((l) => [l.feature, l.watched, l.count])).toEqual([
      [15, true, 2],
      [0, true, 3],
      [7, false, 1],
    ]);
    expect(lines[1].values[0]).toBe(0.1);
    expect(Number.isNaN(lines[1].values[1])).toBe(true);
    expect(new Set(lines.map((l) => l.color)).size).toBe(3);
  });
  it("counts points even when the metric is missing, and shows a fresh watch with none", () => {
    const lines = trajectoryLines(trajectories, [15, 0, 31], "som_magnitude");
    expect(lines.find((l) => l.feature === 0)!.count).toBe(3);
    expect(lines.find((l) => l.feature === 31)!.count).toBe(0);
    expect(trajectoryLines(null, [3], "win_rate")).toHaveLength(1);
  });
});

describe("parseFeatureIds", () => {
  it("reads lists and ranges, de-duplicated in order", () => {
    expect(parseFeatureIds("0, 15 31;47  63", 64, 8)).toEqual({ ids: [0, 15, 31, 47, 63], error: null });
    expect(parseFeatureIds("3-5, 4", 64, 8)).toEqual({ ids: [3, 4, 5], error: null });
    expect(parseFeatureIds("  ", 64, 8)).toEqual({ ids: [], error: null });
  });
  it("names what is wrong", () => {
    expect(parseFeatureIds("1, x", 64, 8).error).toMatch(/'x' is not a feature index/);
    expect(parseFeatureIds("64", 64, 8).error).toMatch(/features 0\.\.63/);
    expect(parseFeatureIds("0-8", 64, 8).error).toMatch(/at most 8/);
    expect(parseFeatureIds("5-3", 64, 8).error).toMatch(/empty range/);
    expect(parseFeatureIds("-1", 64, 8).error).toMatch(/not a feature index/);
  });
});

describe("watch list edits", () => {
  it("adds once and up to the limit, removes", () => {
    expect(withFeature([1, 2], 3, 8)).toEqual([1, 2, 3]);
    expect(withFeature([1, 2], 2, 8)).toEqual([1, 2]);
    expect(withFeature([1, 2], 3, 2)).toEqual([1, 2]);
    expect(withoutFeature([1, 2, 3], 2)).toEqual([1, 3]);
  });
});

describe("similarity", () => {
  it("reads the matrix and its off-diagonal mean", () => {
    const m = similarityMatrix(trajectories)!;
    expect(m.features).toEqual([15, 0]);
    expect(meanOffDiagonal(m)).toBeCloseTo(0.4);
    expect(similarityMatrix({ ...trajectories, similarity: null })).toBeNull();
  });
});

describe("export", () => {
  it("carries the run and every trajectory", () => {
    const run = { run_id: "r1", recipe: "g", condition: "bcl-med", seed: 0, steps: 100, step: 3, status: "paused" } as RunStateActive;
    const out = trajectoryExport(run, trajectories, new Date("2026-01-02T03:04:05Z"));
    expect(out.exported_at).toBe("2026-01-02T03:04:05.000Z");
    expect(out.run.condition).toBe("bcl-med");
    expect(Object.keys(out.features)).toEqual(["0", "7", "15"]);
    expect(JSON.parse(JSON.stringify(out)).similarity).toEqual(trajectories.similarity);
    expect(exportFileName(run, 3)).toBe("acc-trajectories-r1-step3.json");
  });
});
