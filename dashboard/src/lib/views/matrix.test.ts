import { describe, expect, it } from "vitest";

import { inverseOrder, offDiagonalStats, orderByDescending, permuteSquare, rowCosine, rowNorm } from "./matrix";

describe("offDiagonalStats", () => {
  it("leaves the diagonal out", () => {
    // [[1, 0.2, 0.4], [0.2, 1, 0.6], [0.4, 0.6, 1]]
    const m = [1, 0.2, 0.4, 0.2, 1, 0.6, 0.4, 0.6, 1];
    const stats = offDiagonalStats(m, 3);
    expect(stats.mean).toBeCloseTo(0.4, 12);
    expect(stats.max).toBeCloseTo(0.6, 12);
    // population std of [0.2, 0.4, 0.2, 0.6, 0.4, 0.6]
    expect(stats.std).toBeCloseTo(Math.sqrt((0.04 + 0 + 0.04 + 0.04 + 0 + 0.04) / 6), 12);
    expect(stats.count).toBe(6);
  });
  it("skips and counts non-finite entries", () => {
    const stats = offDiagonalStats([1, NaN, 0.5, 1], 2);
    expect(stats).toMatchObject({ mean: 0.5, max: 0.5, count: 1, nonfinite: 1 });
  });
});

describe("reordering", () => {
  it("orders by value, largest first, stable, NaN last", () => {
    expect([...orderByDescending([0.1, NaN, 0.5, 0.1])]).toEqual([2, 0, 3, 1]);
  });
  it("permutes rows and columns together and inverts", () => {
    const m = [0, 1, 2, 10, 11, 12, 20, 21, 22]; // m[r][c] = 10r + c
    const order = [2, 0, 1];
    expect([...permuteSquare(m, 3, order)]).toEqual([22, 20, 21, 2, 0, 1, 12, 10, 11]);
    expect([...inverseOrder(order)]).toEqual([1, 2, 0]);
  });
});

describe("rowCosine", () => {
  it("is the cosine of two rows", () => {
    const a = [1, 0, 3, 4];
    const b = [0, 1, 6, 8];
    expect(rowCosine(a, b, 1, 2)).toBeCloseTo(1, 12);
    expect(rowCosine(a, b, 0, 2)).toBeCloseTo(0, 12);
    expect(rowNorm(a, 1, 2)).toBe(5);
  });
  it("is 0 for a zero row and NaN for a non-finite one", () => {
    expect(rowCosine([0, 0], [1, 2], 0, 2)).toBe(0);
    expect(Number.isNaN(rowCosine([NaN, 1], [1, 2], 0, 2))).toBe(true);
  });
});
