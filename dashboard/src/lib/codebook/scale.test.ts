import { describe, expect, it } from "vitest";

import { formatTick, linePath, linearScale, logScale, logTicks, padDomain } from "./scale";

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

describe("logTicks", () => {
  it("gives 1-2-5 ticks over a few decades and powers of ten over many", () => {
    expect(logTicks(0.004, 0.3)).toEqual([0.005, 0.01, 0.02, 0.05, 0.1, 0.2]);
    expect(logTicks(1e-6, 10)).toEqual([1e-6, 1e-5, 1e-4, 0.001, 0.01, 0.1, 1, 10]);
  });

  it("falls back to linear ticks inside one decade, and nothing for bad ranges", () => {
    expect(logTicks(0.2, 0.5)).toEqual([0.2, 0.3, 0.4, 0.5]);
    expect(logTicks(0, 1)).toEqual([]);
  });
});

describe("formatTick", () => {
  it("formats compactly", () => {
    expect(formatTick(0.01, true)).toBe("0.01");
    expect(formatTick(1e-4, true)).toBe("1e−4");
    expect(formatTick(0.25, false, 0.05)).toBe("0.25");
    expect(formatTick(200, false, 50)).toBe("200");
    // Small linear ticks keep the digits that tell them apart.
    expect(formatTick(1.5e-4, false, 5e-5)).toBe("1.5e−4");
    expect(formatTick(1e-4, false, 5e-5)).toBe("1e−4");
    expect(formatTick(3e-4, false, 1e-4)).toBe("3e−4");
    expect(formatTick(2e5, false, 1e5)).toBe("2e5");
  });
});
