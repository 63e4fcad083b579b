import { describe, expect, it } from "vitest";

import {
  appendMatrix,
  bucketsFor,
  cellStats,
  DEFAULT_FEATURE_KEY,
  emptyMatrix,
  FEATURE_HISTORY_KEYS,
  featureSeries,
  featureTicks,
  paintStrip,
  stepTicks,
  stripOf,
  toRow,
} from "./feature-timeline";
import { KEY_META } from "./generated/tensor-keys";
import type { HistoryValue, InspectHistoryResponse } from "./inspect-types";
import { lutFor, NONFINITE_RGB } from "./views/colour";

const answer = (since: number, steps: number[], column?: HistoryValue[], more = false): InspectHistoryResponse => ({
  since,
  steps,
  columns: column ? { win_rate: column } : {},
  nonfinite: {},
  more,
  vectors_from: null,
  failed: [],
});

describe("the [D] history keys", () => {
  it("are the per-feature history keys, win_rate first picked", () => {
    expect(FEATURE_HISTORY_KEYS).toContain("win_rate");
    expect(FEATURE_HISTORY_KEYS).toContain("grad_magnitude");
    expect(FEATURE_HISTORY_KEYS).not.toContain("loss");
    expect(FEATURE_HISTORY_KEYS).not.toContain("batch_labels");
    for (const key of FEATURE_HISTORY_KEYS) {
      expect(KEY_META[key].history).toBe(true);
      expect(KEY_META[key].shape).toEqual(["D"]);
    }
    expect(FEATURE_HISTORY_KEYS).toContain(DEFAULT_FEATURE_KEY);
  });
});

describe("the matrix from history answers", () => {
  it("turns cells into rows: nulls inside a row are NaN, a null row stays null", () => {
    expect(Array.from(toRow([0.5, null, 1])!)).toEqual([0.5, NaN, 1]);
    expect(toRow(null)).toBeNull();
    expect(toRow(undefined)).toBeNull();
    expect(toRow(3)).toBeNull();
  });

  it("appends the new steps only, null rows where the trainer no longer holds them", () => {
    let m = emptyMatrix("s1", "win_rate");
    m = appendMatrix(m, answer(1, [1, 2, 3], [null, [0.1, 0.2], [0.3, null]]));
    expect(m.steps).toEqual([1, 2, 3]);
    expect(m.rows[0]).toBeNull();
    expect(Array.from(m.rows[2]!)).toEqual([Math.fround(0.3), NaN]);
    expect(m.dim).toBe(2);
    expect(m.captured).toBe(true);

    // An overlapping page adds only what is new; an answer with nothing new is the same matrix.
    const next = appendMatrix(m, answer(3, [3, 4], [[9, 9], [0.5, 0.6]]));
    expect(next.steps).toEqual([1, 2, 3, 4]);
    expect(Array.from(next.rows[2]!)).toEqual(Array.from(m.rows[2]!));
    expect(appendMatrix(next, answer(5, []))).toBe(next);
  });

  it("says when the session does not capture the key", () => {
    const m = appendMatrix(emptyMatrix("s1", "win_rate"), answer(1, [1, 2]));
    expect(m.captured).toBe(false);
    expect(m.rows).toEqual([null, null]);
    expect(m.dim).toBe(0);
    expect(appendMatrix(emptyMatrix("s1", "win_rate"), answer(1, [])).captured).toBeNull();
  });

  it("keeps the newest rows only", () => {
    const steps = [1, 2, 3, 4, 5];
    const m = appendMatrix(emptyMatrix("s", "win_rate"), answer(1, steps, steps.map((s) => [s])), 3);
    expect(m.steps).toEqual([3, 4, 5]);
    expect(m.rows.map((r) => r![0])).toEqual([3, 4, 5]);
  });
});

describe("downsampling steps to pixel columns", () => {
  it("gives each step a column when they fit, else even runs covering every step once", () => {
    expect(bucketsFor(3, 10)).toEqual([
      { start: 0, end: 1 },
      { start: 1, end: 2 },
      { start: 2, end: 3 },
    ]);
    expect(bucketsFor(0, 10)).toEqual([]);
    const runs = bucketsFor(1000, 300);
    expect(runs).toHaveLength(300);
    expect(runs[0].start).toBe(0);
    expect(runs.at(-1)!.end).toBe(1000);
    for (let i = 1; i < runs.length; i++) expect(runs[i].start).toBe(runs[i - 1].end);
    for (const run of runs) expect(run.end - run.start).toBeGreaterThanOrEqual(3);
  });

  it("averages a column's steps per feature; a NaN marks the cell, a column with no rows is not held", () => {
    let m = emptyMatrix("s", "win_rate");
    m = appendMatrix(m, answer(1, [1, 2, 3, 4, 5, 6], [[0, 1], [1, 3], [null, 2], [1, 2], null, null]));
    const exact = stripOf(m, 10);
    expect(exact.cols).toBe(6);
    expect(exact.dim).toBe(2);
    // feature-major: feature 0's row first
    expect(Array.from(exact.values.slice(0, 6))).toEqual([0, 1, NaN, 1, NaN, NaN]);
    expect(Array.from(exact.held)).toEqual([1, 1, 1, 1, 0, 0]);
    expect(exact.nonfinite).toBe(1);
    expect(exact.count).toBe(7);
    expect([exact.min, exact.max]).toEqual([0, 3]);
    expect(exact.sum).toBe(0 + 1 + 1 + 1 + 3 + 2 + 2);

    const two = stripOf(m, 3); // columns: steps 1-2, 3-4, 5-6
    expect(two.cols).toBe(3);
    expect(Array.from(two.values)).toEqual([0.5, NaN, NaN, 2, 2, NaN]);
    expect(Array.from(two.held)).toEqual([1, 1, 0]);
  });

  it("describes a cell, and a feature's line", () => {
    let m = emptyMatrix("s", "win_rate");
    m = appendMatrix(m, answer(1, [1, 2, 3, 4], [[0.5, 0], [0.25, 1], null, [null, 2]]));
    expect(cellStats(m, { start: 0, end: 4 }, 0)).toEqual({
      firstStep: 1,
      lastStep: 4,
      held: 3,
      finite: 2,
      nonfinite: 1,
      mean: 0.375,
      min: 0.25,
      max: 0.5,
    });
    expect(featureSeries(m, 1)).toEqual([0, 1, null, 2]);
    expect(featureSeries(m, 0)).toEqual([0.5, 0.25, null, null]);
  });
});

describe("painting the strip", () => {
  it("colours held cells by value, NaN magenta, missing columns transparent", () => {
    let m = emptyMatrix("s", "win_rate");
    m = appendMatrix(m, answer(1, [1, 2, 3], [[0, 1], [null, 1], null]));
    const strip = stripOf(m, 10);
    const pixels = new Uint8ClampedArray(strip.cols * strip.dim * 4);
    const lut = lutFor("viridis");
    paintStrip(strip, pixels, lut, { lo: 0, hi: 1 });
    const px = (f: number, c: number) => Array.from(pixels.slice((f * strip.cols + c) * 4, (f * strip.cols + c) * 4 + 4));
    expect(px(0, 0)).toEqual([lut[0], lut[1], lut[2], 255]);
    expect(px(1, 0)).toEqual([lut[765], lut[766], lut[767], 255]);
    expect(px(0, 1)).toEqual([...NONFINITE_RGB, 255]);
    expect(px(0, 2)).toEqual([0, 0, 0, 0]);
  });
});

describe("axis ticks", () => {
  it("puts round step numbers inside the range", () => {
    expect(stepTicks(1, 30)).toEqual([5, 10, 15, 20, 25, 30]);
    expect(stepTicks(1, 1000, 5)).toEqual([200, 400, 600, 800, 1000]);
    expect(stepTicks(1, 3)).toEqual([1, 2, 3]);
    expect(stepTicks(7, 7)).toEqual([7]);
    expect(stepTicks(5, 1)).toEqual([]);
  });

  it("labels feature rows 0, every 16th and the last", () => {
    expect(featureTicks(64)).toEqual([0, 16, 32, 48, 63]);
    expect(featureTicks(20)).toEqual([0, 16]);
    expect(featureTicks(30)).toEqual([0, 16, 29]);
    expect(featureTicks(0)).toEqual([]);
  });
});
