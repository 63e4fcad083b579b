import { describe, expect, it } from "vitest";

import { TAB10 } from "../views/colour";
import { codeColour, deadVsActive, fitBounds, meanWhere, pathLength, trajectoryBounds, visibleCodes, type Point } from "./trajectory";

const points: Point[][] = [
  [
    [0, 0],
    [3, 4],
  ],
  [
    [1, 1],
    [1, 1],
  ],
  [
    [-2, 0],
    [-2, 2],
  ],
];
const dead = [false, true, false];

describe("visibleCodes and colours", () => {
  it("filters active and dead codes", () => {
    expect(visibleCodes(dead, "all")).toEqual([0, 1, 2]);
    expect(visibleCodes(dead, "active")).toEqual([0, 2]);
    expect(visibleCodes(dead, "dead")).toEqual([1]);
    expect(visibleCodes([], "all", 2)).toEqual([0, 1]);
  });

  it("cycles tab10 by code", () => {
    expect(codeColour(0)).toBe(TAB10[0]);
    expect(codeColour(12)).toBe(TAB10[2]);
  });
});

describe("trajectoryBounds and fitBounds", () => {
  it("bounds the chosen codes over all snapshots", () => {
    expect(trajectoryBounds(points, [0, 2])).toEqual({ x0: -2, x1: 3, y0: 0, y1: 4 });
    expect(trajectoryBounds(points, [])).toBeNull();
  });

  it("uses one unit on both axes, centred, y up", () => {
    const fit = fitBounds({ x0: 0, x1: 10, y0: 0, y1: 2 }, 220, 120, 10);
    expect(fit.unit).toBe(20); // width limits: 200 px / 10 units (height would allow 50)
    expect(fit.x(0)).toBe(10);
    expect(fit.x(10)).toBe(210);
    expect(fit.y(1)).toBe(60);
    expect(fit.y(2)).toBe(40); // up is smaller y
  });

  it("puts a single point in the middle", () => {
    const fit = fitBounds({ x0: 5, x1: 5, y0: 5, y1: 5 }, 100, 80, 10);
    expect([fit.x(5), fit.y(5)]).toEqual([50, 40]);
  });
});

describe("how far codes moved", () => {
  it("sums segment lengths", () => {
    expect(pathLength(points[0])).toBe(5);
    expect(pathLength(points[1])).toBe(0);
    expect(pathLength([])).toBe(0);
  });

  it("compares dead and active codes", () => {
    expect(meanWhere([1, 2, 3], dead, false)).toBe(2);
    expect(meanWhere([1, 2, 3], [false, false, false], true)).toBeNull();
    expect(deadVsActive(points, dead, [0.5, 0, 0.25])).toEqual({
      dead: 1,
      active: 2,
      deadMoved: 0,
      activeMoved: 3.5,
      deadBar: 0,
      activeBar: 0.375,
    });
  });
});
