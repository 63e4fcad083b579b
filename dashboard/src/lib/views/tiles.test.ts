import { describe, expect, it } from "vitest";

import { lutFor } from "./colour";
import { paintTiles, rowRanges, squareSide, tileAt, tileLayout } from "./tiles";

describe("tileLayout", () => {
  it("puts 64 tiles of 28 px 8 per row with 1 px gaps", () => {
    const layout = tileLayout(64, 8, 28, 1);
    expect(layout.rows).toBe(8);
    expect(layout.width).toBe(8 * 29 + 1);
    expect(layout.height).toBe(8 * 29 + 1);
    expect(layout.colX[1]).toBe(30);
  });
  it("leaves a wider gap after the first column when asked", () => {
    const layout = tileLayout(9, 9, 28, 1, 6);
    expect(layout.colX[1] - layout.colX[0]).toBe(29 + 6);
    expect(layout.colX[2] - layout.colX[1]).toBe(29);
  });
  it("a short last row still counts a full grid width", () => {
    const layout = tileLayout(10, 8, 4, 1);
    expect(layout.rows).toBe(2);
    expect(layout.perRow).toBe(8);
  });
});

describe("tileAt", () => {
  const layout = tileLayout(10, 8, 4, 1);
  it("finds the slot and the pixel inside it", () => {
    expect(tileAt(layout, 1, 1)).toEqual({ slot: 0, px: 0, py: 0 });
    expect(tileAt(layout, 1 + 5 + 3, 1 + 2)).toEqual({ slot: 1, px: 3, py: 2 });
    expect(tileAt(layout, 6, 6)).toEqual({ slot: 9, px: 0, py: 0 });
  });
  it("is null on gaps, empty slots and outside", () => {
    expect(tileAt(layout, 0, 0)).toBeNull();
    expect(tileAt(layout, 5, 1)).toBeNull(); // gap between tile 0 and 1
    expect(tileAt(layout, 1 + 2 * 5, 6)).toBeNull(); // slot 10 does not exist
    expect(tileAt(layout, -3, 2)).toBeNull();
  });
});

describe("squareSide", () => {
  it("is the side of a square picture only", () => {
    expect(squareSide(784)).toBe(28);
    expect(squareSide(10)).toBeNull();
  });
});

describe("paintTiles", () => {
  it("paints each slot's row at its place and leaves gaps transparent", () => {
    // two 2×2 features, shown in reverse order
    const data = new Float32Array([0, 0, 0, 0, 1, 1, 1, NaN]);
    const layout = tileLayout(2, 2, 2, 1);
    const pixels = new Uint8ClampedArray(layout.width * layout.height * 4);
    const nonfinite = paintTiles(data, [1, 0], layout, pixels, lutFor("gray"), () => ({ lo: 0, hi: 1 }));
    expect(nonfinite).toBe(1);
    const at = (x: number, y: number) => [...pixels.slice((y * layout.width + x) * 4, (y * layout.width + x) * 4 + 4)];
    expect(at(0, 0)).toEqual([0, 0, 0, 0]); // border gap
    expect(at(1, 1)).toEqual([255, 255, 255, 255]); // slot 0 shows feature 1
    expect(at(2, 2)).toEqual([255, 0, 255, 255]); // its NaN pixel
    expect(at(4, 1)).toEqual([0, 0, 0, 255]); // slot 1 shows feature 0
  });
  it("row ranges give per-feature scales", () => {
    const ranges = rowRanges([1, 2, -5, 3], 2, 2);
    expect(ranges.map((r) => [r.min, r.max])).toEqual([
      [1, 2],
      [-5, 3],
    ]);
  });
});
