import { describe, expect, it } from "vitest";

import { nearestIndex, niceTicks } from "./chart";

describe("niceTicks", () => {
  it("covers the range with round steps", () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0.44, 0.47, 3)).toEqual([0.44, 0.45, 0.46, 0.47]);
  });
  it("handles a flat or non-finite range", () => {
    expect(niceTicks(3, 3, 4)).toEqual([3]);
    expect(niceTicks(Number.NaN, 1, 4)).toEqual([]);
  });
});

describe("nearestIndex", () => {
  it("finds the nearest of increasing values", () => {
    expect(nearestIndex([1, 2, 5, 9], 4)).toBe(2);
    expect(nearestIndex([1, 2, 5, 9], 3.4)).toBe(1);
    expect(nearestIndex([1, 2, 5, 9], 100)).toBe(3);
    expect(nearestIndex([], 1)).toBe(-1);
  });
});
