import { describe, expect, it } from "vitest";

import { MAX_LABEL_CHARS, linearAxis, logAxis, logTicks, niceTicks, parseTickLabel, tickLabels } from "./ticks";

/** What a reader of the axis gets: each label's value (plus the axis offset, when there is one). */
function readBack(labels: readonly string[], offset: string | null): number[] {
  const base = offset === null ? 0 : parseTickLabel(offset);
  return labels.map((l) => base + parseTickLabel(l));
}

/** Every property an axis must have: distinct, short, readable back in order, and true to its ticks. */
function expectReadable(ticks: readonly number[], labels: readonly string[], offset: string | null, what: string) {
  expect(labels.length, what).toBe(ticks.length);
  expect(new Set(labels).size, `${what}: distinct ${labels.join(" | ")}`).toBe(labels.length);
  for (const l of labels) expect(l.length, `${what}: "${l}" is too long`).toBeLessThanOrEqual(MAX_LABEL_CHARS);
  if (offset !== null) expect(offset.length, `${what}: offset "${offset}"`).toBeLessThanOrEqual(MAX_LABEL_CHARS + 2);
  const values = readBack(labels, offset);
  const gap = ticks.length > 1 ? Math.min(...ticks.slice(1).map((t, i) => t - ticks[i])) : Math.abs(ticks[0]) || 1;
  values.forEach((v, i) => {
    expect(Number.isNaN(v), `${what}: "${labels[i]}" does not read as a number`).toBe(false);
    expect(Math.abs(v - ticks[i]), `${what}: "${labels[i]}" for ${ticks[i]}`).toBeLessThanOrEqual(gap * 0.01 + Math.abs(ticks[i]) * 1e-12);
    if (i > 0) expect(v, `${what}: monotone ${labels.join(" | ")}`).toBeGreaterThan(values[i - 1]);
  });
}

describe("niceTicks", () => {
  it("covers the range with round steps, each an exact decimal", () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0.44, 0.47, 3)).toEqual([0.44, 0.45, 0.46, 0.47]);
    expect(niceTicks(0, 0.3, 3)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(niceTicks(-3e-6, 3e-6, 3)).toEqual([-2e-6, 0, 2e-6]);
  });
  it("handles a flat, reversed or non-finite range", () => {
    expect(niceTicks(3, 3, 4)).toEqual([3]);
    expect(niceTicks(10, 0, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(Number.NaN, 1, 4)).toEqual([]);
  });
  it("keeps ticks distinct where the numbers run out of precision", () => {
    const ticks = niceTicks(1000 - 1e-9, 1000 + 1e-9, 4);
    expect(new Set(ticks).size).toBe(ticks.length);
    expect(niceTicks(1, 1 + 1e-17, 4)).toEqual([1]);
  });
});

describe("logTicks", () => {
  it("gives 1-2-5 ticks when they fit, powers of ten when not", () => {
    expect(logTicks(0.004, 0.3)).toEqual([0.005, 0.01, 0.02, 0.05, 0.1, 0.2]);
    expect(logTicks(0.003, 0.03)).toEqual([0.005, 0.01, 0.02]);
    expect(logTicks(1e-6, 10)).toEqual([1e-6, 1e-5, 1e-4, 0.001, 0.01, 0.1, 1, 10]);
    expect(logTicks(0.0005, 20)).toEqual([0.001, 0.01, 0.1, 1, 10]);
    expect(logTicks(1e-12, 1e12).length).toBeLessThanOrEqual(8);
  });
  it("falls back to linear ticks inside one decade, and nothing for bad ranges", () => {
    expect(logTicks(0.2, 0.5)).toEqual([0.2, 0.3, 0.4, 0.5]);
    expect(logTicks(0.096, 0.52)).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(logTicks(1.3, 2.2)).toEqual([1.5, 2]);
    expect(logTicks(0, 1)).toEqual([]);
    expect(logTicks(-1, 1)).toEqual([]);
  });
});

describe("tick labels", () => {
  it("reads compactly, with the digits that tell neighbours apart", () => {
    expect(tickLabels([0.2, 0.25, 0.3]).labels).toEqual(["0.20", "0.25", "0.30"]);
    expect(tickLabels([0, 100, 200]).labels).toEqual(["0", "100", "200"]);
    expect(tickLabels([1e-4, 1.5e-4, 2e-4]).labels).toEqual(["1e−4", "1.5e−4", "2e−4"]);
    expect(tickLabels([0, 1e5, 2e5]).labels).toEqual(["0", "1e5", "2e5"]);
    expect(tickLabels([-0.5, 0, 0.5]).labels).toEqual(["−0.5", "0", "0.5"]);
    expect(tickLabels([1e-4, 0.001, 0.01, 0.1, 1]).labels).toEqual(["1e−4", "0.001", "0.01", "0.1", "1"]);
    expect(tickLabels([0.25, 0.5], { scale: 100, suffix: "%" }).labels).toEqual(["25%", "50%"]);
  });

  it("tells apart the force scatter's small gradients (once all '2e-6')", () => {
    const { labels } = tickLabels([0, 5e-7, 1e-6, 1.5e-6, 2e-6, 2.5e-6]);
    expect(labels).toEqual(["0", "5e−7", "1e−6", "1.5e−6", "2e−6", "2.5e−6"]);
  });

  it("tells apart a cosine that stays near 1 (once all '1.0e+0')", () => {
    const axis = linearAxis(0.99999, 1.00001, 5);
    expect(axis.labels).toEqual(["1−1e−5", "1−5e−6", "1", "1+5e−6", "1+1e−5"]);
    expect(axis.offset).toBeNull();
    const near = linearAxis(1 - 1e-7, 1, 5);
    expectReadable(near.ticks, near.labels, near.offset, "[1−1e−7, 1]");
    expect(near.labels.at(-1)).toBe("1");
  });

  it("moves the common part into an offset when inline labels would be too long", () => {
    const axis = linearAxis(123.456 - 1e-9, 123.456 + 1e-9, 4);
    expect(axis.offset).toBe("123.456");
    expect(axis.labels).toContain("0");
    expectReadable(axis.ticks, axis.labels, axis.offset, "123.456 ± 1e−9");
  });

  it("has two ticks at least on a range that is not flat", () => {
    // niceTicks(0, 0.48, 2) alone is [0]: its step 0.5 leaves the range.
    expect(linearAxis(0, 0.48, 2).ticks).toEqual([0, 0.2, 0.4]);
    expect(linearAxis(0, 0.48, 2, { scale: 100, suffix: "%" }).labels).toEqual(["0%", "20%", "40%"]);
    expect(linearAxis(10.2, 10.9, 2, { integer: true }).ticks).toEqual([]);
  });

  it("labels one tick", () => {
    expect(linearAxis(3, 3, 4).labels).toEqual(["3"]);
    expect(linearAxis(0, 0, 4).labels).toEqual(["0"]);
    expect(tickLabels([1.0000001]).labels).toEqual(["1"]);
    expect(tickLabels([]).labels).toEqual([]);
  });

  const centres = [0, 1, -1, 0.5, -250, 1e3, 7.77e-5, 1e6];
  const halfSpans = Array.from({ length: 16 }, (_, i) => 10 ** (i - 9)); // 1e-9 .. 1e6
  it.each(centres)("is distinct, short and monotone at every range around %s", (centre) => {
    for (const half of halfSpans) {
      // Below ~1e-10 of the magnitude, doubles have no room for distinct ticks.
      if (centre !== 0 && half < Math.abs(centre) * 1e-10) continue;
      for (const [lo, hi] of [
        [centre - half, centre + half],
        [centre, centre + half],
        [centre - 3 * half, centre - half],
      ]) {
        for (const count of [2, 5, 10]) {
          const axis = linearAxis(lo, hi, count);
          expect(axis.ticks.length, `[${lo}, ${hi}]`).toBeGreaterThan(0);
          expectReadable(axis.ticks, axis.labels, axis.offset, `[${lo}, ${hi}] / ${count}`);
        }
      }
    }
  });

  it("is distinct, short and monotone on log axes", () => {
    for (let a = -9; a <= 6; a++) {
      for (const decades of [0.05, 0.3, 1, 2, 5, 12]) {
        const lo = 1.7 * 10 ** a;
        const hi = lo * 10 ** decades;
        const axis = logAxis(lo, hi);
        expectReadable(axis.ticks, axis.labels, axis.offset, `log [${lo}, ${hi}]`);
      }
    }
  });

  it("reads labels back", () => {
    expect(parseTickLabel("1−5e−6")).toBeCloseTo(0.999995, 12);
    expect(parseTickLabel("−2.5e5")).toBe(-250000);
    expect(parseTickLabel("+5e−10")).toBe(5e-10);
    expect(parseTickLabel("12.5%")).toBe(12.5);
    expect(parseTickLabel("abc")).toBeNaN();
  });
});
