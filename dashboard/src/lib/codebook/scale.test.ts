import { describe, expect, it } from "vitest";

import { linePath } from "../downsample";
import { linearScale, logScale, padDomain } from "./scale";

describe("scales", () => {
  it("maps and inverts linearly", () => {
    const s = linearScale([0, 10], [100, 200]);
    expect(s(5)).toBe(150);
    expect(s.invert(175)).toBe(7.5);
    expect(linearScale([3, 3], [0, 10])(3)).toBe(5);
  });

  it("maps decades evenly on a log axis, non-positive to NaN", () => {
    const s = logScale([0.001, 1], [300, 0]);
    expect(s(0.001)).toBeCloseTo(300);
    expect(s(0.01)).toBeCloseTo(200);
    expect(s(1)).toBeCloseTo(0);
    expect(s.invert(100)).toBeCloseTo(0.1);
    expect(Number.isNaN(s(0))).toBe(true);
  });

  it("pads a domain, in decades when log", () => {
    expect(padDomain([0, 10], 0.1)).toEqual([-1, 11]);
    expect(padDomain([2, 2], 0.1)).toEqual([1.5, 2.5]);
    const [lo, hi] = padDomain([0.01, 1], 0.5, true);
    expect(lo).toBeCloseTo(0.001);
    expect(hi).toBeCloseTo(10);
  });
});

describe("linePath", () => {
  it("lifts the pen at gaps", () => {
    const id = (v: number) => v;
    expect(linePath([0, 1, 2, 3], [0, 1, Number.NaN, 3], id, id)).toBe("M0.0,0.0L1.0,1.0M3.0,3.0");
    expect(linePath([], [], id, id)).toBe("");
  });
});
