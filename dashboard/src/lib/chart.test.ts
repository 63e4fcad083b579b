import { describe, expect, it } from "vitest";

import { nearestIndex, nearestPoints } from "./chart";

describe("nearestIndex", () => {
  it("finds the nearest of increasing values", () => {
    expect(nearestIndex([1, 2, 5, 9], 4)).toBe(2);
    expect(nearestIndex([1, 2, 5, 9], 3.4)).toBe(1);
    expect(nearestIndex([1, 2, 5, 9], 100)).toBe(3);
    expect(nearestIndex([], 1)).toBe(-1);
  });
});

describe("nearestIndex within a length", () => {
  it("finds the nearest value within length", () => {
    expect(nearestIndex([1, 2, 5, 9], 4)).toBe(2);
    expect(nearestIndex([1, 2, 5, 9], 100, 2)).toBe(1);
    expect(nearestIndex([], 1)).toBe(-1);
  });
});

describe("nearestPoints", () => {
  const lines = [
    { id: "a", xs: [1, 2, 3], ys: [10, 20, 30] },
    { id: "b", xs: [0, 10], ys: [5, 6] },
    { id: "c", xs: [], ys: [] },
  ];
  it("gives each line's nearest point and the nearest step of all", () => {
    const hover = nearestPoints(lines, 2.2, (line, step) => nearestIndex(line.xs, step));
    expect(hover?.step).toBe(2);
    expect(hover?.rows.map((r) => [r.line.id, r.step, r.value])).toEqual([
      ["a", 2, 20],
      ["b", 0, 5],
    ]);
  });
  it("is null when no line has a point", () => {
    expect(nearestPoints([lines[2]], 1, (line, step) => nearestIndex(line.xs, step))).toBeNull();
  });
});
