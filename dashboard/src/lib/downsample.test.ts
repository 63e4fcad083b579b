import { describe, expect, it } from "vitest";

import { downsampleIndices, isFiniteValue, linePathAt } from "./downsample";

const range = (n: number, from = 1) => Array.from({ length: n }, (_, i) => i + from);

describe("downsampleIndices", () => {
  it("keeps every point when there are no more points than columns (exact)", () => {
    const xs = range(5);
    expect(downsampleIndices(xs, [1, 2, null, 4, 5], 0, 5, 5)).toEqual([0, 1, 2, 3, 4]);
    expect(downsampleIndices(xs, [1, 2, 3, 4, 5], 1, 4, 100)).toEqual([1, 2, 3]);
    expect(downsampleIndices(xs, [1, 2, 3, 4, 5], 3, 3, 100)).toEqual([]);
    expect(downsampleIndices([], [], 0, 0, 100)).toEqual([]);
  });

  it("bounds the output by the width, keeps the extremes, the ends and the NaN gaps", () => {
    const n = 100_000;
    const xs = range(n);
    const ys: (number | null)[] = xs.map((x) => Math.sin(x / 300));
    ys[40_000] = 25; // one spike up
    ys[60_001] = -25; // one spike down
    ys[70_000] = Number.NaN; // one NaN ...
    ys[80_000] = null; // ... and one value the trainer sent as null
    ys[90_000] = Number.POSITIVE_INFINITY;
    const columns = 800;
    const kept = downsampleIndices(xs, ys, 0, n, columns);
    expect(kept.length).toBeLessThanOrEqual(5 * columns);
    expect(kept.length).toBeGreaterThanOrEqual(2 * columns); // every column has its ends
    for (let k = 1; k < kept.length; k++) expect(kept[k]).toBeGreaterThan(kept[k - 1]);
    expect(kept[0]).toBe(0);
    expect(kept.at(-1)).toBe(n - 1);
    for (const spike of [40_000, 60_001, 70_000, 80_000, 90_000]) expect(kept).toContain(spike);
    // Every column's own min and max survive, so the drawn envelope is the real one.
    const span = n - 1;
    for (let c = 0; c < columns; c += 97) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < n; i++) {
        if (Math.min(columns - 1, Math.floor(((xs[i] - 1) / span) * columns)) !== c) continue;
        const v = ys[i];
        if (isFiniteValue(v)) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
      const keptValues = kept.map((i) => ys[i]).filter(isFiniteValue);
      expect(keptValues).toContain(lo);
      expect(keptValues).toContain(hi);
    }
  });

  it("downsamples a window of the series against the window's x range", () => {
    const n = 10_000;
    const xs = range(n);
    const ys = xs.map((x) => (x === 5_000 ? 9 : x % 7));
    const kept = downsampleIndices(xs, ys, 4_000, 6_000, 100, 4_000.5, 6_000.5);
    expect(kept.length).toBeLessThanOrEqual(500);
    expect(kept[0]).toBe(4_000);
    expect(kept.at(-1)).toBe(5_999);
    expect(kept.every((i) => i >= 4_000 && i < 6_000)).toBe(true);
    expect(kept).toContain(4_999); // the step-5000 spike
  });

  it("handles uneven steps (a session that skipped numbers) and a single column", () => {
    const xs = [1, 2, 3, 1_000, 1_001, 1_002];
    const ys = [5, 1, 3, 8, 2, 4];
    const kept = downsampleIndices(xs, ys, 0, 6, 2);
    expect(kept).toEqual([0, 1, 2, 3, 4, 5]);
    expect(downsampleIndices(xs, ys, 0, 6, 1)).toEqual([0, 1, 3, 5]);
  });
});

describe("linePathAt", () => {
  it("lifts the pen at non-finite values", () => {
    const xs = [1, 2, 3, 4, 5];
    const ys = [1, 2, null, Number.NaN, 5];
    const path = linePathAt([0, 1, 2, 3, 4], xs, ys, (s) => s * 10, (v) => v);
    expect(path).toBe("M10.0,1.0L20.0,2.0M50.0,5.0");
    expect(linePathAt([], xs, ys, (s) => s, (v) => v)).toBe("");
  });
});
