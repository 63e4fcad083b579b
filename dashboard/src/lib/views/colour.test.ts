import { describe, expect, it } from "vitest";

import {
  buildLut,
  categorical,
  CATEGORICAL,
  colourIndex,
  cosineRgb,
  diverging,
  heatmapColours,
  domainFor,
  finiteRange,
  lutFor,
  mapFor,
  mapRgb,
  NONFINITE_RGB,
  paintValues,
  rgb,
  textOn,
  viridis,
} from "./colour";

const rgbAt = (lut: Uint8Array, i: number) => [lut[i * 3], lut[i * 3 + 1], lut[i * 3 + 2]];

describe("colour tables", () => {
  it("interpolate between evenly spaced stops", () => {
    const lut = buildLut(["#000000", "#ffffff"]);
    expect(rgbAt(lut, 0)).toEqual([0, 0, 0]);
    expect(rgbAt(lut, 255)).toEqual([255, 255, 255]);
    expect(rgbAt(lut, 128)).toEqual([128, 128, 128]);
  });
  it("viridis runs dark purple to yellow; the diverging map is white or near-black at 0", () => {
    const viridis = lutFor("viridis");
    expect(rgbAt(viridis, 0)).toEqual([0x44, 0x01, 0x54]);
    expect(rgbAt(viridis, 255)).toEqual([0xfd, 0xe7, 0x25]);
    const light = lutFor("diverging");
    const mid = rgbAt(light, 128);
    expect(Math.min(...mid)).toBeGreaterThan(240);
    expect(rgbAt(light, 0)[2]).toBeGreaterThan(rgbAt(light, 0)[0]); // negative is blue
    expect(rgbAt(light, 255)[0]).toBeGreaterThan(rgbAt(light, 255)[2]); // positive is red
    expect(Math.max(...rgbAt(lutFor("diverging", true), 128))).toBeLessThan(40);
  });
  it("never contains the non-finite colour", () => {
    for (const lut of [lutFor("viridis"), lutFor("diverging"), lutFor("diverging", true), lutFor("gray")]) {
      for (let i = 0; i < 256; i++) expect(rgbAt(lut, i)).not.toEqual([...NONFINITE_RGB]);
    }
  });
  it("picks the map from the key's scale", () => {
    expect(mapFor("signed")).toBe("diverging");
    expect(mapFor("signed", "image")).toBe("diverging");
    expect(mapFor("magnitude")).toBe("viridis");
    expect(mapFor("cosine")).toBe("viridis");
    expect(mapFor("magnitude", "image")).toBe("gray");
  });
});

describe("finiteRange", () => {
  it("skips and counts NaN and infinities", () => {
    const r = finiteRange(new Float32Array([1, NaN, -3, Infinity, 2, -Infinity]));
    expect(r).toEqual({ min: -3, max: 2, absMax: 3, nonfinite: 3, count: 3 });
  });
  it("covers a sub-range", () => {
    expect(finiteRange([9, 1, 2, 9], 1, 3)).toMatchObject({ min: 1, max: 2, count: 2 });
  });
  it("is NaN for nothing finite", () => {
    expect(finiteRange([NaN]).count).toBe(0);
    expect(Number.isNaN(finiteRange([]).min)).toBe(true);
  });
});

describe("domainFor", () => {
  const range = (data: number[]) => finiteRange(data);
  it("starts magnitudes at 0", () => {
    expect(domainFor("magnitude", range([0.2, 0.5]))).toEqual({ lo: 0, hi: 0.5 });
  });
  it("centres signed data on 0, symmetric", () => {
    expect(domainFor("signed", range([-0.1, 0.4]))).toEqual({ lo: -0.4, hi: 0.4 });
    expect(domainFor("signed", range([0, 0]))).toEqual({ lo: -1, hi: 1 });
  });
  it("fixes unit and cosine data to 0..1 unless fitted", () => {
    expect(domainFor("unit", range([0.001, 0.002]))).toEqual({ lo: 0, hi: 1 });
    expect(domainFor("cosine", range([-0.5, 0.9]))).toEqual({ lo: 0, hi: 1 });
    expect(domainFor("unit", range([0.001, 0.002]), true)).toEqual({ lo: 0.001, hi: 0.002 });
    expect(domainFor("cosine", range([-0.5, 0.9]), true)).toEqual({ lo: 0, hi: 0.9 });
  });
  it("widens a flat tensor", () => {
    const d = domainFor("magnitude", range([3, 3]));
    expect(d.hi).toBeGreaterThan(d.lo);
  });
});

describe("painting", () => {
  it("maps values through the domain, clamping, with negatives of a cosine at the 0 colour", () => {
    const domain = { lo: 0, hi: 1 };
    expect(colourIndex(-0.4, domain)).toBe(0);
    expect(colourIndex(0, domain)).toBe(0);
    expect(colourIndex(0.5, domain)).toBe(128);
    expect(colourIndex(1, domain)).toBe(255);
    expect(colourIndex(7, domain)).toBe(255);
    expect(colourIndex(NaN, domain)).toBe(-1);
  });
  it("writes RGBA pixels and counts non-finite cells in the NaN colour", () => {
    const lut = lutFor("gray");
    const pixels = new Uint8ClampedArray(4 * 4);
    const nonfinite = paintValues(new Float32Array([0, 1, NaN, -Infinity]), pixels, lut, { lo: 0, hi: 1 });
    expect(nonfinite).toBe(2);
    expect([...pixels.slice(0, 4)]).toEqual([0, 0, 0, 255]);
    expect([...pixels.slice(4, 8)]).toEqual([255, 255, 255, 255]);
    expect([...pixels.slice(8, 11)]).toEqual([...NONFINITE_RGB]);
    expect([...pixels.slice(12, 15)]).toEqual([...NONFINITE_RGB]);
  });
  it("agrees with colourIndex", () => {
    const lut = lutFor("viridis");
    const domain = { lo: -2, hi: 6 };
    const values = [-3, -2, 0, 1.37, 5.99, 6, 8];
    const pixels = new Uint8ClampedArray(values.length * 4);
    paintValues(values, pixels, lut, domain);
    values.forEach((v, i) => expect([...pixels.slice(i * 4, i * 4 + 3)]).toEqual(rgbAt(lut, colourIndex(v, domain))));
  });
});

describe("cosine colours", () => {
  const isBlue = ([r, g, b]: number[]) => b > r + 50 && b > g;
  const isRed = ([r, g, b]: number[]) => r > b + 50 && r > g;
  const isWhite = (c: number[]) => Math.min(...c) > 240;

  it("diverge blue – white – red over −1..1 by default", () => {
    expect(isBlue(cosineRgb(-1))).toBe(true);
    expect(isWhite(cosineRgb(0))).toBe(true);
    expect(isRed(cosineRgb(1))).toBe(true);
    // Anti-aligned is as far from orthogonal as aligned is: not the same colour as 0.
    expect(cosineRgb(-0.8)).not.toEqual(cosineRgb(0));
    expect(isBlue(cosineRgb(-0.5))).toBe(true);
    expect(isRed(cosineRgb(0.5))).toBe(true);
  });

  it("draw non-finite cosines magenta, in every mode", () => {
    expect(cosineRgb(Number.NaN)).toEqual([...NONFINITE_RGB]);
    expect(cosineRgb(Infinity, "fixed")).toEqual([...NONFINITE_RGB]);
  });

  it("clamp beyond ±1, and keep 0..1 viridis (negatives as 0) when switched", () => {
    expect(cosineRgb(-3)).toEqual(cosineRgb(-1));
    expect(cosineRgb(2)).toEqual(cosineRgb(1));
    expect(cosineRgb(0, "fixed")).toEqual([0x44, 0x01, 0x54]);
    expect(cosineRgb(-0.7, "fixed")).toEqual(cosineRgb(0, "fixed"));
    expect(cosineRgb(1, "fixed")).toEqual([0xfd, 0xe7, 0x25]);
  });

  it("keep blue and red on a dark page, around its near-black", () => {
    expect(isBlue(cosineRgb(-1, "signed", true))).toBe(true);
    expect(Math.max(...cosineRgb(0, "signed", true))).toBeLessThan(40);
    expect(cosineRgb(1, "signed", true)[0]).toBeGreaterThan(cosineRgb(1, "signed", true)[2]);
  });

  it("pick the heatmap's map and range by mode", () => {
    const range = finiteRange([-0.4, 0.2, 0.9]);
    expect(heatmapColours("cosine", range, "signed")).toEqual({ map: "diverging", domain: { lo: -1, hi: 1 } });
    expect(heatmapColours("cosine", range, "fixed")).toEqual({ map: "viridis", domain: { lo: 0, hi: 1 } });
    expect(heatmapColours("cosine", range, "fit")).toEqual({ map: "viridis", domain: { lo: 0, hi: 0.9 } });
    // Only cosines have the −1..1 mode; a unit key stays on its 0..1.
    expect(heatmapColours("unit", range, "signed")).toEqual({ map: "viridis", domain: { lo: 0, hi: 1 } });
  });
});

describe("single colours", () => {
  it("run viridis from purple to yellow, clamped, as the tables do at their ends", () => {
    expect(viridis(0)).toEqual([68, 1, 84]);
    expect(viridis(1)).toEqual([253, 231, 37]);
    expect(viridis(7)).toEqual(viridis(1));
    expect(viridis(Number.NaN)).toEqual(viridis(0));
    const lut = lutFor("viridis");
    expect(mapRgb("viridis", 0.5)).toEqual(rgbAt(lut, 0)
      .map((_, c) => Math.round((lut[127 * 3 + c] + lut[128 * 3 + c]) / 2)));
  });

  it("centre the diverging map on near-white (near-black when dark)", () => {
    expect(diverging(0, 1)).toEqual([247, 247, 247]);
    const [r, , b] = diverging(1, 1);
    expect(r).toBeGreaterThan(b);
    const [r2, , b2] = diverging(-1, 1);
    expect(b2).toBeGreaterThan(r2);
    expect(diverging(Number.NaN, 1)).toEqual([...NONFINITE_RGB]);
    expect(diverging(0, 1, true)).toEqual([22, 24, 29]);
    expect(diverging(3, 0)).toEqual(diverging(0, 1));
  });

  it("write CSS and pick readable text", () => {
    expect(rgb([1, 2, 3])).toBe("rgb(1 2 3)");
    expect(textOn([250, 250, 250])).toBe("#16191f");
    expect(textOn([10, 10, 60])).toBe("#f6f7f9");
  });

  it("cycle the categorical palette", () => {
    expect(categorical(0)).toBe(CATEGORICAL[0]);
    expect(categorical(CATEGORICAL.length + 2)).toBe(CATEGORICAL[2]);
    expect(categorical(-1)).toBe(CATEGORICAL[CATEGORICAL.length - 1]);
    expect(new Set(CATEGORICAL).size).toBe(CATEGORICAL.length);
  });
});
