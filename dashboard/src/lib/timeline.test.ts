import { describe, expect, it } from "vitest";

import {
  MIN_WINDOW_STEPS,
  nonFiniteSpans,
  clampWindow,
  dragWindow,
  failureMarkers,
  fullWindow,
  lowerBound,
  panBy,
  visibleRange,
  zoomAround,
} from "./timeline";

const full = fullWindow(1, 10_000); // 0.5 .. 10000.5

describe("zoom window", () => {
  it("clamps into the full range, keeps a minimum span and drops a window that covers it all", () => {
    expect(clampWindow({ lo: 100, hi: 200 }, full)).toEqual({ lo: 100, hi: 200 });
    expect(clampWindow({ lo: -50, hi: 50 }, full)).toEqual({ lo: 0.5, hi: 100.5 });
    expect(clampWindow({ lo: 9_990, hi: 10_100 }, full)).toEqual({ lo: 9_890.5, hi: 10_000.5 });
    expect(clampWindow({ lo: 500, hi: 501 }, full)).toEqual({ lo: 500.5 - MIN_WINDOW_STEPS / 2, hi: 500.5 + MIN_WINDOW_STEPS / 2 });
    expect(clampWindow({ lo: 0, hi: 20_000 }, full)).toBeNull();
    // A session shorter than the minimum span cannot be zoomed.
    expect(clampWindow({ lo: 2, hi: 3 }, fullWindow(1, 4))).toBeNull();
  });

  it("zooms around the pointer's step, which stays put", () => {
    const w = zoomAround({ lo: 0.5, hi: 10_000.5 }, full, 2_500, 0.5)!;
    expect(w.hi - w.lo).toBeCloseTo(5_000);
    // 2500 sits at the same fraction of the window before and after
    expect((2_500 - w.lo) / (w.hi - w.lo)).toBeCloseTo((2_500 - 0.5) / 10_000);
    // zooming out past everything is no zoom at all
    expect(zoomAround(w, full, 2_500, 4)).toBeNull();
    // never closer than the minimum span
    const close = zoomAround({ lo: 100, hi: 110 }, full, 105, 0.1)!;
    expect(close.hi - close.lo).toBeCloseTo(MIN_WINDOW_STEPS);
  });

  it("pans within the full range and turns a drag (either way) into a window", () => {
    expect(panBy({ lo: 100, hi: 200 }, full, 50)).toEqual({ lo: 150, hi: 250 });
    expect(panBy({ lo: 100, hi: 200 }, full, -500)).toEqual({ lo: 0.5, hi: 100.5 });
    expect(dragWindow(300, 120, full)).toEqual({ lo: 120, hi: 300 });
    expect(dragWindow(300, 301, full)).toEqual({ lo: 300.5 - MIN_WINDOW_STEPS / 2, hi: 300.5 + MIN_WINDOW_STEPS / 2 });
  });

  it("finds the indices of the steps inside a window", () => {
    const steps = [1, 2, 3, 5, 8, 13, 21];
    expect(lowerBound(steps, 4)).toBe(3);
    expect(lowerBound(steps, 0)).toBe(0);
    expect(lowerBound(steps, 22)).toBe(7);
    expect(visibleRange(steps, { lo: 2.5, hi: 13.5 })).toEqual([2, 6]);
    expect(visibleRange(steps, { lo: 0.5, hi: 21.5 })).toEqual([0, 7]);
    expect(visibleRange(steps, { lo: 13, hi: 13 })).toEqual([5, 6]);
    expect(visibleRange(steps, { lo: 14, hi: 20 })).toEqual([6, 6]);
  });
});

describe("failureMarkers", () => {
  const x = (step: number) => step * 2; // 2 px per step
  const boom = (step: number, message = "boom") => ({ step, error: "RuntimeError", message });

  it("puts one marker per failed step at that step's x, in step order", () => {
    const markers = failureMarkers([boom(40), boom(7)], { lo: 0.5, hi: 100.5 }, x);
    expect(markers.map((m) => [m.first, m.last, m.x])).toEqual([
      [7, 7, 14],
      [40, 40, 80],
    ]);
    expect(markers[0].title).toBe("Step 7 failed\nRuntimeError: boom");
  });

  it("joins attempts at one step, and at steps closer than the minimum gap", () => {
    const markers = failureMarkers(
      [boom(7), boom(7), { step: 7, error: "ValueError", message: "bad batch" }, boom(9, "again"), boom(30)],
      { lo: 0.5, hi: 100.5 },
      x,
      8,
    );
    expect(markers.map((m) => [m.first, m.last, m.attempts.length])).toEqual([
      [7, 9, 4],
      [30, 30, 1],
    ]);
    expect(markers[0].x).toBe(14);
    expect(markers[0].title).toBe(
      "4 failed attempts at steps 7–9\nstep 7: RuntimeError: boom (×2)\nstep 7: ValueError: bad batch\nstep 9: RuntimeError: again",
    );
    // Zoomed in (20 px per step) the same attempts are two markers.
    const wide = failureMarkers([boom(7), boom(7), boom(9, "again")], { lo: 0.5, hi: 100.5 }, (s) => s * 20);
    expect(wide.map((m) => [m.first, m.attempts.length])).toEqual([
      [7, 2],
      [9, 1],
    ]);
    expect(wide[0].title).toBe("2 failed attempts at step 7\nRuntimeError: boom (×2)");
  });

  it("leaves out attempts outside the window; an attempt past the last step still shows when in it", () => {
    const markers = failureMarkers([boom(3), boom(50), boom(101)], { lo: 10, hi: 101.5 }, x);
    expect(markers.map((m) => m.first)).toEqual([50, 101]);
    expect(failureMarkers([], full, x)).toEqual([]);
  });
});

describe("nonFiniteSpans", () => {
  const x = (step: number) => step * 10;

  it("joins consecutive non-finite steps into one span and skips finite ones", () => {
    const steps = [1, 2, 3, 4, 5, 6, 7];
    const values = [0.5, Number.NaN, null, 0.4, Number.POSITIVE_INFINITY, Number.NaN, Number.NaN];
    expect(nonFiniteSpans(steps, values, 0, steps.length, x)).toEqual([
      { first: 2, last: 3, x0: 20, x1: 30 },
      { first: 5, last: 7, x0: 50, x1: 70 },
    ]);
  });

  it("merges runs closer than minGap pixels and keeps to [start, end)", () => {
    const steps = [1, 2, 3, 4, 5];
    const values = [Number.NaN, 1, Number.NaN, 1, Number.NaN];
    expect(nonFiniteSpans(steps, values, 0, 5, (s) => s * 0.5)).toEqual([{ first: 1, last: 5, x0: 0.5, x1: 2.5 }]);
    expect(nonFiniteSpans(steps, values, 1, 4, x)).toEqual([{ first: 3, last: 3, x0: 30, x1: 30 }]);
  });

  it("gives nothing when every value is finite", () => {
    expect(nonFiniteSpans([1, 2], [0.1, 0.2], 0, 2, x)).toEqual([]);
  });
});
