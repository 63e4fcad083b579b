import { describe, expect, it } from "vitest";

import type { CodebookHistoryResponse } from "../codebook-types";
import { decimate } from "../downsample";
import { appendHistory, emptySeries, eventsByStep, finiteExtent, lastStep, lossLines, nextSince, usageLines } from "./series";

function answer(runId: string, steps: number[], validation: number[] = []): CodebookHistoryResponse {
  return {
    run_id: runId,
    since: steps[0] ?? 0,
    steps,
    loss: steps.map((s) => 1 / s),
    reconstruction: steps.map((s) => 0.5 / s),
    commitment: steps.map((s) => (s === 3 ? null : 0.1 / s)),
    codebook: steps.map(() => 0),
    wasserstein: steps.map(() => 0),
    perplexity: steps.map((s) => [s, s + 1]),
    usage: steps.map(() => [0.5, 0.25]),
    validation: validation.map((step) => ({ step, loss: 0.2, reconstruction: 0.1, commitment: 0.01, usage: [0.4, 0.3] })),
  };
}

describe("appendHistory", () => {
  it("adds new steps, columns per level and validation passes", () => {
    const s = appendHistory(emptySeries("a"), answer("a", [1, 2, 3], [1]));
    expect(s.steps).toEqual([1, 2, 3]);
    expect(s.scalars.loss).toEqual([1, 0.5, 1 / 3]);
    expect(Number.isNaN(s.scalars.commitment[2])).toBe(true); // null -> NaN
    expect(s.perplexity).toEqual([
      [1, 2, 3],
      [2, 3, 4],
    ]);
    expect(s.usage[1]).toEqual([0.25, 0.25, 0.25]);
    expect(s.validation.map((v) => v.step)).toEqual([1]);
    expect(lastStep(s)).toBe(3);
    expect(nextSince(s)).toBe(4);
  });

  it("skips steps and validation passes already held (a repeated or overlapping answer)", () => {
    const first = appendHistory(emptySeries("a"), answer("a", [1, 2], [1]));
    const second = appendHistory(first, answer("a", [2, 3], [1, 50]));
    expect(second.steps).toEqual([1, 2, 3]);
    expect(second.validation.map((v) => v.step)).toEqual([1, 50]);
    expect(second).not.toBe(first);
    // Nothing new: the same object comes back, so stores do not notify.
    expect(appendHistory(second, answer("a", [3], [50]))).toBe(second);
  });

  it("starts over for another run", () => {
    const first = appendHistory(emptySeries("a"), answer("a", [1, 2, 3]));
    const other = appendHistory(first, answer("b", [1]));
    expect(other.runId).toBe("b");
    expect(other.steps).toEqual([1]);
  });

  it("reads a null row (older than the vector history window) as NaN on every level", () => {
    const old = { ...answer("a", [1, 2, 3]), perplexity: [null, null, [3, 4]] };
    const s = appendHistory(emptySeries("a"), old);
    expect(s.perplexity[0].map(Number.isNaN)).toEqual([true, true, false]);
    expect(s.perplexity[1]).toEqual([Number.NaN, Number.NaN, 4]);
  });

  it("pads a level that appears late with NaN", () => {
    const partial = { ...answer("a", [1, 2]), perplexity: [[1], [2, 5]] };
    const s = appendHistory(emptySeries("a"), partial);
    expect(s.perplexity[0]).toEqual([1, 2]);
    expect(Number.isNaN(s.perplexity[1][0])).toBe(true);
    expect(s.perplexity[1][1]).toBe(5);
  });
});

describe("lossLines and usageLines", () => {
  it("draws train, validation and dashed commitment loss; Sinkhorn only when weighted", () => {
    const s = appendHistory(emptySeries("a"), answer("a", [1, 2], [1]));
    const lines = lossLines(s, false);
    expect(lines.map((l) => l.id)).toEqual(["train", "validation", "commitment"]);
    expect(lines.find((l) => l.id === "commitment")?.dashed).toBe(true);
    expect(lines.find((l) => l.id === "commitment")?.color).toBe("var(--cb-commit)");
    expect(lines.find((l) => l.id === "validation")?.xs).toEqual([1]);
    // The Sinkhorn column is all zero here but finite, so it is drawn when asked for.
    expect(lossLines(s, true).map((l) => l.id)).toContain("wasserstein");
  });

  it("leaves out lines without a finite value", () => {
    const s = appendHistory(emptySeries("a"), { ...answer("a", [1]), validation: [] });
    expect(lossLines(s, false).map((l) => l.id)).toEqual(["train", "commitment"]);
  });

  it("gives one level's train and validation usage", () => {
    const s = appendHistory(emptySeries("a"), answer("a", [1, 2], [1]));
    const [train, val] = usageLines(s, 1);
    expect(train.ys).toEqual([0.25, 0.25]);
    expect(val.ys).toEqual([0.3]);
  });
});

describe("decimate", () => {
  it("keeps short lines whole", () => {
    expect(decimate([1, 2, 3], [3, 2, 1], 3, 10)).toEqual({ x: [1, 2, 3], y: [3, 2, 1] });
  });

  it("keeps first, lowest and highest of each slice, and gaps", () => {
    const xs = Array.from({ length: 100 }, (_, i) => i);
    const ys = xs.map((x) => (x === 37 ? 100 : x === 60 ? Number.NaN : 1));
    const out = decimate(xs, ys, xs.length, 4);
    expect(out.x.length).toBeLessThan(20);
    expect(out.y).toContain(100);
    expect(out.y.some((y) => Number.isNaN(y))).toBe(true);
    expect(out.x).toEqual([...out.x].sort((a, b) => a - b));
  });
});

describe("finiteExtent and eventsByStep", () => {
  it("finds the finite (positive) range", () => {
    expect(finiteExtent([3, Number.NaN, -1, 0, 7])).toEqual([-1, 7]);
    expect(finiteExtent([3, -1, 0, 7], true)).toEqual([3, 7]);
    expect(finiteExtent([Number.NaN])).toBeNull();
  });

  it("groups revivals by step", () => {
    const events = [
      { step: 71, level: 1, code: 3, old_count: 0.4, source: "batch vector 1" },
      { step: 71, level: 2, code: 5, old_count: 0.4, source: "batch vector 2" },
      { step: 9, level: 1, code: 4, old_count: 0.1, source: "batch vector 3" },
      { step: 71, level: 1, code: 8, old_count: 0.4, source: "batch vector 4" },
    ];
    expect(eventsByStep(events)).toEqual([
      { step: 9, count: 1, levels: [1] },
      { step: 71, count: 3, levels: [1, 2] },
    ]);
  });
});
