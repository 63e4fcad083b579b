import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { type ThrottleClock, throttle, throttledQueue } from "./throttle";

function fakeClock() {
  let now = 0;
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let next = 1;
  const clock: ThrottleClock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = next++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout: (id) => {
      const i = timers.findIndex((t) => t.id === id);
      if (i >= 0) timers.splice(i, 1);
    },
  };
  const advance = (ms: number) => {
    now += ms;
    for (const t of timers.filter((t) => t.at <= now)) {
      timers.splice(timers.indexOf(t), 1);
      t.fn();
    }
  };
  return { clock, advance };
}

describe("throttle with an injected clock", () => {
  it("runs at once, then once at the end of the wait however often it is asked", () => {
    const { clock, advance } = fakeClock();
    let calls = 0;
    const t = throttle(() => calls++, 500, clock);
    t();
    expect(calls).toBe(1);
    t();
    t();
    advance(100);
    t();
    expect(calls).toBe(1);
    advance(400);
    expect(calls).toBe(2);
    advance(1000);
    expect(calls).toBe(2);
  });

  it("drops a pending call on cancel", () => {
    const { clock, advance } = fakeClock();
    let calls = 0;
    const t = throttle(() => calls++, 500, clock);
    t();
    t();
    t.cancel();
    advance(1000);
    expect(calls).toBe(1);
  });

  it("does not overlap an async call", async () => {
    const { clock, advance } = fakeClock();
    let calls = 0;
    let release: () => void = () => {};
    const t = throttle(
      () => {
        calls++;
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
      100,
      clock,
    );
    t();
    advance(200);
    t(); // the first call is still out: waits for it
    expect(calls).toBe(1);
    release();
    await Promise.resolve();
    await Promise.resolve();
    expect(calls).toBe(2);
  });
});

describe("throttle with the real clock (fake timers)", () => {
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

describe("throttledQueue", () => {
  it("applies the first item at once, then what arrives during the wait in one batch, in order", () => {
    const { clock, advance } = fakeClock();
    const applied: string[] = [];
    const queue = throttledQueue<string>((item) => applied.push(item), 500, clock);
    queue.push("a");
    expect(applied).toEqual(["a"]);
    queue.push("b");
    queue.push("c");
    advance(499);
    expect(applied).toEqual(["a"]);
    advance(1);
    expect(applied).toEqual(["a", "b", "c"]);
    advance(2_000); // quiet: the next item goes at once again
    queue.push("d");
    expect(applied).toEqual(["a", "b", "c", "d"]);
  });

  it("flushes on demand, in order, and drops everything on cancel", () => {
    const { clock, advance } = fakeClock();
    const applied: number[] = [];
    const queue = throttledQueue<number>((item) => applied.push(item), 500, clock);
    queue.push(1);
    queue.push(2);
    queue.push(3);
    queue.flush();
    expect(applied).toEqual([1, 2, 3]);
    advance(500); // the pending application finds nothing left (and starts a new wait)
    expect(applied).toEqual([1, 2, 3]);
    queue.push(4);
    queue.push(5);
    queue.cancel();
    advance(1_000);
    expect(applied).toEqual([1, 2, 3]);
    queue.push(6); // after the wait: at once
    expect(applied).toEqual([1, 2, 3, 6]);
  });
});
