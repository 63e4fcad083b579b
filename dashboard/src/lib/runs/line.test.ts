import { describe, expect, it } from "vitest";

import { MAX_SMOOTHING, emaSmooth, padLogDomain, positiveExtent } from "./line";

describe("emaSmooth", () => {
  it("gives the series back at 0", () => {
    expect(Array.from(emaSmooth([3, 1, 4, 1, 5], 5, 0))).toEqual([3, 1, 4, 1, 5]);
  });

  it("averages exponentially, debiased so the first value is itself", () => {
    const out = emaSmooth([10, 0, 0], 3, 0.5);
    expect(out[0]).toBe(10);
    // Sums 5, 2.5, 1.25 over weights 0.5, 0.75, 0.875 (1 − 0.5^n).
    expect(out[1]).toBeCloseTo(2.5 / 0.75);
    expect(out[2]).toBeCloseTo(1.25 / 0.875);
  });

  it("keeps a constant constant and smooths noise", () => {
    expect(Array.from(emaSmooth([2, 2, 2, 2], 4, 0.9)).every((v) => Math.abs(v - 2) < 1e-12)).toBe(true);
    const noisy = Array.from({ length: 400 }, (_, i) => 1 + (i % 2 ? 0.5 : -0.5));
    const smooth = emaSmooth(noisy, noisy.length, 0.95);
    const tail = Array.from(smooth.slice(300));
    expect(Math.max(...tail) - Math.min(...tail)).toBeLessThan(0.1);
  });

  it("leaves gaps at non-finite values without letting them into the average", () => {
    const out = emaSmooth([1, Number.NaN, Infinity, 1], 4, 0.8);
    expect(out[0]).toBe(1);
    expect(out[1]).toBeNaN();
    expect(out[2]).toBe(Infinity);
    expect(out[3]).toBeCloseTo(1);
  });

  it("reads only the first `length` values and clamps the weight", () => {
    expect(emaSmooth(new Float64Array([1, 2, 3, 0, 0]), 3, 0).length).toBe(3);
    const clamped = emaSmooth([0, 1], 2, 5);
    expect(clamped[1]).toBeCloseTo(emaSmooth([0, 1], 2, MAX_SMOOTHING)[1]);
    expect(Array.from(emaSmooth([0, 1], 2, Number.NaN))).toEqual([0, 1]);
  });
});

describe("log axis range", () => {
  it("is the range of the positive values only", () => {
    expect(positiveExtent([0, -1, 0.5, 2, Number.NaN, Infinity])).toEqual([0.5, 2]);
    expect(positiveExtent([0, -1, Number.NaN])).toBeNull();
    expect(positiveExtent([5, 1, 0.1, 9], 1, 3)).toEqual([0.1, 1]);
  });

  it("pads in decades, and widens a flat range", () => {
    const [lo, hi] = padLogDomain([0.01, 1], 0.5);
    expect(lo).toBeCloseTo(0.001);
    expect(hi).toBeCloseTo(10);
    expect(padLogDomain([2, 2])).toEqual([2 / 1.5, 3]);
  });
});
