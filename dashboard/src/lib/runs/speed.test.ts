import { describe, expect, it } from "vitest";

import { addSample, rateTime, recentSamples, SPEED_WINDOW_MS, STALL_MS, stepRate, type StepSample } from "./speed";

describe("addSample", () => {
  it("adds a new step and keeps the same one once", () => {
    const one = addSample([], 1_000, 5);
    expect(one).toEqual([{ t: 1_000, step: 5 }]);
    expect(addSample(one, 1_200, 5)).toBe(one);
    expect(addSample(one, 1_200, 6)).toEqual([
      { t: 1_000, step: 5 },
      { t: 1_200, step: 6 },
    ]);
  });

  it("drops samples older than the window, always keeping two", () => {
    let samples: readonly StepSample[] = [];
    for (let i = 0; i < 10; i++) samples = addSample(samples, i * 1_000, i * 10);
    expect(samples.map((s) => s.step)).toEqual([60, 70, 80, 90]);
    expect(recentSamples(samples, 100_000)).toEqual(samples.slice(-2));
  });
});

describe("stepRate", () => {
  it("measures over the recent samples up to now", () => {
    const samples = [
      { t: 0, step: 0 },
      { t: 1_000, step: 100 },
    ];
    expect(stepRate(samples, 200, 2_000, 7)).toBe(100);
    // Both older than the window: the newest two still count.
    expect(stepRate(samples, 200, 8_000, 7)).toBe(25);
    expect(recentSamples([...samples, { t: 1_500, step: 150 }], 1_000 + SPEED_WINDOW_MS + 1)).toHaveLength(2);
  });

  it("gives the fallback until the samples span half a second, and without any", () => {
    expect(stepRate([{ t: 0, step: 0 }], 3, 400, 7)).toBe(7);
    expect(stepRate([], 3, 400, 7)).toBe(7);
  });
});

describe("rateTime", () => {
  const samples = [
    { t: 0, step: 0 },
    { t: 1_000, step: 100 },
  ];

  it("stays at the newest sample while steps stream, so a clock tick changes nothing", () => {
    expect(rateTime(samples, 1_200)).toBe(1_000);
    expect(rateTime(samples, 1_000 + STALL_MS - 1)).toBe(1_000);
    expect(stepRate(samples, 100, rateTime(samples, 1_900), 7)).toBe(stepRate(samples, 100, rateTime(samples, 1_100), 7));
  });

  it("follows the clock once steps stop, so a stalled run's rate falls", () => {
    expect(rateTime(samples, 1_000 + STALL_MS)).toBe(1_000 + STALL_MS);
    expect(stepRate(samples, 100, rateTime(samples, 4_000), 7)).toBeLessThan(100);
    expect(rateTime([], 500)).toBe(500);
  });
});
