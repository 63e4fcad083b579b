import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { throttle } from "./throttle";

describe("throttle", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("runs at once, then collapses a burst into one trailing call", () => {
    const fn = vi.fn();
    const t = throttle(fn, 500);
    t();
    expect(fn).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(40);
      t();
    }
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(200);
    expect(fn).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(2000);
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it("never exceeds one call per interval under a steady stream", () => {
    const fn = vi.fn();
    const t = throttle(fn, 500);
    for (let i = 0; i < 100; i++) {
      t();
      vi.advanceTimersByTime(100); // ten events a second for ten seconds
    }
    expect(fn.mock.calls.length).toBeGreaterThanOrEqual(19);
    expect(fn.mock.calls.length).toBeLessThanOrEqual(21);
  });

  it("does not overlap a slow async call", async () => {
    let release!: () => void;
    const fn = vi.fn(() => new Promise<void>((resolve) => (release = resolve)));
    const t = throttle(fn, 100);
    t();
    vi.advanceTimersByTime(150);
    t();
    vi.advanceTimersByTime(150);
    expect(fn).toHaveBeenCalledTimes(1); // still out
    release();
    await vi.runAllTimersAsync();
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it("cancels a pending call", () => {
    const fn = vi.fn();
    const t = throttle(fn, 500);
    t();
    t();
    t.cancel();
    vi.advanceTimersByTime(1000);
    expect(fn).toHaveBeenCalledTimes(1);
  });
});
