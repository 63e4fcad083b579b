import { describe, expect, it } from "vitest";

import { KEY_META, type KeyMeta } from "../generated/tensor-keys";
import { classify, columnValues, discoverColumns, nextSort, sortOrder, summarize } from "./columns";

const meta = (shape: string[], scale: KeyMeta["scale"] = "unit"): KeyMeta => ({
  shape,
  render: "bar_chart",
  history: true,
  description: "",
  scale,
  dtype: "float32",
  group: "bcl",
  derivedFrom: [],
});

describe("discoverColumns", () => {
  it("takes every [D] key, then every [B, D] key as a batch mean, with win_rate first", () => {
    const columns = discoverColumns({
      feature_novelty: meta(["D"]),
      strength: meta(["B", "D"]),
      win_rate: meta(["D"]),
      neighbors: meta(["D", "k"], "index"),
      image_coverage: meta(["B"]),
      encoder_weights: meta(["D", "P"]),
      loss: meta([]),
    });
    expect(columns.map((c) => [c.key, c.reduce])).toEqual([
      ["win_rate", "value"],
      ["feature_novelty", "value"],
      ["strength", "batch_mean"],
    ]);
  });
  it("finds the issue's columns in the real vocabulary", () => {
    const keys = discoverColumns(KEY_META).map((c) => c.key);
    for (const key of [
      "win_rate", "feature_novelty", "effective_win", "gradient_weight", "contender_weight",
      "attraction_weight", "som_weight_d", "grad_magnitude", "som_magnitude",
      "rank_score", "grad_mask", "strength",
    ]) {
      expect(keys).toContain(key);
    }
    expect(keys[0]).toBe("win_rate");
    expect(keys).not.toContain("neighbors");
    expect(keys).not.toContain("image_coverage");
  });
});

describe("columnValues", () => {
  it("averages [B, D] over the batch", () => {
    const tensor = { dtype: "float32" as const, shape: [2, 3], data: new Float32Array([1, 2, 3, 3, 4, NaN]), derived: false };
    const values = columnValues(tensor, "batch_mean");
    expect([...values.slice(0, 2)]).toEqual([2, 3]);
    expect(Number.isNaN(values[2])).toBe(true);
  });
  it("keeps [D] as it is", () => {
    const tensor = { dtype: "float32" as const, shape: [3], data: new Float32Array([0.5, 0.25, 1]), derived: false };
    expect([...columnValues(tensor, "value")]).toEqual([0.5, 0.25, 1]);
  });
});

describe("summarize", () => {
  it("gives mean, min and max over finite values", () => {
    expect(summarize([1, 2, NaN, 6])).toEqual({ mean: 3, min: 1, max: 6, count: 3, nonfinite: 1 });
  });
  it("is NaN with nothing finite", () => {
    expect(Number.isNaN(summarize([NaN]).mean)).toBe(true);
  });
});

describe("sortOrder", () => {
  const values = [0.3, NaN, 0.9, 0.1, 0.9, -Infinity];
  it("sorts descending with ties in index order and NaN last", () => {
    expect(sortOrder(values, "desc")).toEqual([2, 4, 0, 3, 5, 1]);
  });
  it("sorts ascending with NaN still last", () => {
    expect(sortOrder(values, "asc")).toEqual([5, 3, 0, 2, 4, 1]);
  });
  it("a header click sorts descending, a second click reverses", () => {
    const first = nextSort(null, "win_rate");
    expect(first).toEqual({ key: "win_rate", direction: "desc" });
    expect(nextSort(first, "win_rate")).toEqual({ key: "win_rate", direction: "asc" });
    expect(nextSort(first, "strength")).toEqual({ key: "strength", direction: "desc" });
    expect(nextSort(null, "feature", "asc")).toEqual({ key: "feature", direction: "asc" });
  });
});

describe("classify", () => {
  it("splits dead, contender and winner at 0.01 and 0.05", () => {
    expect(classify(0)).toBe("dead");
    expect(classify(0.0099)).toBe("dead");
    expect(classify(0.01)).toBe("contender");
    expect(classify(0.05)).toBe("contender");
    expect(classify(0.051)).toBe("winner");
    expect(classify(NaN)).toBeNull();
  });
});
