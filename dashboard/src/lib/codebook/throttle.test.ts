import { describe, expect, it } from "vitest";

import { type Clock, throttle } from "./throttle";

function fakeClock() {
  let now = 0;
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let next = 1;
  const clock: Clock = {
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

describe("throttle", () => {
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
