import { describe, expect, it } from "vitest";

import { linePath } from "../downsample";
import { extent, linearScale, logScale, minPositive, padDomain, unionExtent } from "./scale";

describe("linearScale", () => {
  it("maps and inverts", () => {
    const s = linearScale([0, 10], [100, 200]);
    expect(s(5)).toBe(150);
    expect(s.invert(150)).toBe(5);
    const flipped = linearScale([0, 1], [300, 0]);
    expect(flipped(0.25)).toBe(225);
  });
  it("survives a flat domain", () => {
    expect(Number.isFinite(linearScale([3, 3], [0, 10])(3))).toBe(true);
  });
});

describe("extent and padding", () => {
  it("ignores non-finite values and nulls", () => {
    expect(extent([3, null, Number.NaN, -1, Infinity, 2])).toEqual([-1, 3]);
    expect(extent([null, Number.NaN])).toBeNull();
    expect(extent([5, 1, 9], 2)).toEqual([1, 5]);
    expect(unionExtent([[0, 1], null, [-2, 0.5]])).toEqual([-2, 1]);
  });
  it("pads without crossing a floor", () => {
    expect(padDomain([0, 10], 0.1)).toEqual([-1, 11]);
    expect(padDomain([0, 10], 0.1, 0)).toEqual([0, 11]);
    const [lo, hi] = padDomain([2, 2]);
    expect(lo).toBeLessThan(2);
    expect(hi).toBeGreaterThan(2);
  });
});

describe("linePath", () => {
  it("lifts the pen at gaps", () => {
    const id = (v: number) => v;
    expect(linePath([0, 1, 2, 3], [0, 1, Number.NaN, 3], id, id)).toBe("M0.0,0.0L1.0,1.0M3.0,3.0");
  });
});

describe("log axis", () => {
  it("maps decades evenly and clamps at the start", () => {
    const s = logScale([1e-3, 1e1], [0, 400]);
    expect(s(1e-3)).toBeCloseTo(0);
    expect(s(1e-1)).toBeCloseTo(200);
    expect(s(0)).toBeCloseTo(0);
    expect(s.invert(300)).toBeCloseTo(1);
  });
  it("maps non-positive values to NaN when asked to leave gaps, and a line lifts its pen there", () => {
    const s = logScale([0.01, 1], [100, 0], { gaps: true });
    expect(s(0.1)).toBeCloseTo(50);
    expect(s(0)).toBeNaN();
    expect(s(-3)).toBeNaN();
    expect(s(Number.NaN)).toBeNaN();
    const id = (v: number) => v;
    expect(linePath([0, 1, 2, 3], [0.01, 0, 0.1, 1], id, s)).toBe("M0.0,100.0M2.0,50.0L3.0,0.0");
  });
  it("finds the smallest positive value", () => {
    expect(minPositive([0, 3, 0.5, Number.NaN, -1])).toBe(0.5);
    expect(minPositive([0, -1])).toBeNull();
  });
});
