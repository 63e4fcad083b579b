import { describe, expect, it } from "vitest";

import { gridSize, tileAt, tileCentre } from "./grid";

describe("image grid geometry (acc/image_grid.py make_grid)", () => {
  it("sizes a grid: 28-pixel tiles, 1 pixel of padding between and around", () => {
    expect(gridSize(128, 16)).toEqual({ width: 16 * 29 + 1, height: 8 * 29 + 1 });
    expect(gridSize(3, 16)).toEqual({ width: 3 * 29 + 1, height: 30 });
    expect(gridSize(64, 8)).toEqual({ width: 233, height: 233 });
  });

  it("finds the tile under a pixel, none on padding or past the last tile", () => {
    expect(tileAt(1, 1, 128, 16)).toEqual({ index: 0, row: 0, column: 0 });
    expect(tileAt(28, 28, 128, 16)).toEqual({ index: 0, row: 0, column: 0 });
    expect(tileAt(29, 1, 128, 16)).toBeNull(); // padding between tiles
    expect(tileAt(30, 30, 128, 16)).toEqual({ index: 17, row: 1, column: 1 });
    expect(tileAt(0, 5, 128, 16)).toBeNull();
    expect(tileAt(30 + 29 * 2, 5, 10, 4)).toEqual({ index: 3, row: 0, column: 3 });
    expect(tileAt(30 + 29, 30 + 29, 5, 4)).toBeNull(); // row 2 column 2 would be the 11th tile
  });

  it("gives a tile's centre as fractions of the grid", () => {
    const c = tileCentre(0, 64, 8);
    expect(c.x).toBeCloseTo(15 / 233);
    expect(c.y).toBeCloseTo(15 / 233);
    expect(tileCentre(63, 64, 8).x).toBeCloseTo((1 + 7 * 29 + 14) / 233);
  });
});
