import { describe, expect, it } from "vitest";

import { CATEGORICAL } from "../views/colour";
import { barLabel, deadMask, groupedBars, histogramBars, levelColour, perplexity, rankOrder, shares, utilisation } from "./histogram";

describe("the metrics of docs/codebook.md", () => {
  it("marks codes under dead_fraction of a uniform share", () => {
    // N = 1000, K = 4: a uniform share is 250, 1% of it 2.5.
    expect(deadMask([997, 2, 1, 0], 0.01)).toEqual([false, true, true, true]);
    expect(deadMask([500, 497, 3, 0], 0.01)).toEqual([false, false, false, true]);
    expect(deadMask([0, 0], 0.01)).toEqual([false, false]);
  });

  it("computes shares, perplexity and utilisation by hand", () => {
    expect(shares([1, 3, 0])).toEqual([0.25, 0.75, 0]);
    expect(shares([0, 0])).toEqual([0, 0]);
    expect(perplexity([5, 5, 5, 5])).toBeCloseTo(4);
    expect(perplexity([7, 0, 0])).toBeCloseTo(1);
    const p = [0.25, 0.75];
    expect(perplexity([1, 3])).toBeCloseTo(Math.exp(-(p[0] * Math.log(p[0]) + p[1] * Math.log(p[1]))));
    expect(perplexity([])).toBe(0);
    expect(utilisation([1, 0, 2, 0])).toBe(0.5);
  });
});

describe("rankOrder", () => {
  it("orders by decreasing count, ties by index", () => {
    expect(rankOrder([2, 9, 2, 5])).toEqual([1, 3, 0, 2]);
  });
});

describe("histogramBars", () => {
  it("gives one bar per code when they fit", () => {
    const bars = histogramBars([3, 1, 2], [false, true, false], 10);
    expect(bars.map((b) => b.value)).toEqual([3, 1, 2]);
    expect(bars.map((b) => b.dead)).toEqual([0, 1, 0]);
    expect(bars.map((b) => b.start)).toEqual([0, 1, 2]);
  });

  it("groups codes into at most maxBars bars, keeping the largest value", () => {
    const values = [1, 9, 2, 3, 0, 0, 4];
    const dead = values.map((v) => v === 0);
    const bars = histogramBars(values, dead, 3);
    expect(bars.map((b) => b.codes)).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6],
    ]);
    expect(bars.map((b) => b.value)).toEqual([9, 3, 4]);
    expect(bars.map((b) => b.dead)).toEqual([0, 2, 0]);
  });

  it("follows a given order", () => {
    const values = [1, 9, 2];
    const bars = histogramBars(values, [false, false, false], 10, rankOrder(values));
    expect(bars.map((b) => b.codes[0])).toEqual([1, 2, 0]);
    expect(barLabel(bars[0], true)).toBe("rank 1 · code 1");
    expect(barLabel(bars[2], false)).toBe("code 0");
  });

  it("labels groups by their codes or ranks", () => {
    const bars = histogramBars([1, 2, 3, 4, 5], [false, false, false, false, false], 2);
    expect(barLabel(bars[0], false)).toBe("codes 0–2");
    expect(barLabel(bars[1], true)).toBe("ranks 4–5");
  });
});

describe("grouped bars (levels side by side)", () => {
  const level1 = { values: [1, 5, 0, 2], dead: [false, false, true, false] };
  const level2 = { values: [3, 0, 4, 1], dead: [false, true, false, false] };

  it("puts every level's value of a code in one group, in level order", () => {
    const groups = groupedBars([level1, level2], 10);
    expect(groups).toHaveLength(4);
    expect(groups[1]).toEqual({ start: 1, codes: [1], values: [5, 0], dead: [0, 1] });
    expect(groups[2]).toEqual({ start: 2, codes: [2], values: [0, 4], dead: [1, 0] });
  });

  it("bins codes the same way in every level when they do not fit", () => {
    const groups = groupedBars([level1, level2], 2);
    expect(groups.map((g) => g.codes)).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(groups.map((g) => g.values)).toEqual([
      [5, 3],
      [2, 4],
    ]);
    expect(groups.map((g) => g.dead)).toEqual([
      [0, 1],
      [1, 0],
    ]);
  });

  it("follows a display order and handles no series", () => {
    expect(groupedBars([level1, level2], 10, [3, 0]).map((g) => g.values)).toEqual([
      [2, 1],
      [1, 3],
    ]);
    expect(groupedBars([], 10)).toEqual([]);
  });

  it("colours levels distinctly", () => {
    expect(new Set([1, 2, 3].map(levelColour)).size).toBe(3);
    expect(levelColour(1)).toBe(levelColour(1 + CATEGORICAL.length));
  });
});
