// Weight-shaped tensors ([D, P], P = 28·28) drawn as tiles: where each tile sits in a grid, which
// tile a pixel belongs to, and the painter. The painter fills RGBA pixels of the whole grid; gaps
// stay transparent so the page's own colour shows between the tiles.
import { type Domain, type FiniteRange, finiteRange, type Lut, packedLut, pixelWords } from "./colour";

export interface TileLayout {
  /** Slots in the grid (tiles, some possibly empty). */
  count: number;
  perRow: number;
  rows: number;
  /** Side of one square tile, in pixels. */
  tile: number;
  gap: number;
  /** Size of the whole grid, gaps and border included. */
  width: number;
  height: number;
  /** Left edge of each column, top edge of each row. */
  colX: number[];
  rowY: number[];
}

/** The side of a square picture of `pixels` values, or null when it is not a square. */
export function squareSide(pixels: number): number | null {
  const side = Math.round(Math.sqrt(pixels));
  return side > 0 && side * side === pixels ? side : null;
}

/**
 * `count` tiles of `tile`×`tile`, `perRow` per row, `gap` pixels between them and around the grid.
 * `splitAfterFirst` adds that many pixels after the first column (a feature, then its neighbours).
 */
export function tileLayout(count: number, perRow: number, tile: number, gap = 1, splitAfterFirst = 0): TileLayout {
  const columns = Math.max(1, Math.min(perRow, count));
  const rows = Math.max(1, Math.ceil(count / columns));
  const colX: number[] = [];
  let x = gap;
  for (let c = 0; c < columns; c++) {
    colX.push(x);
    x += tile + gap + (c === 0 ? splitAfterFirst : 0);
  }
  const rowY: number[] = [];
  for (let r = 0; r < rows; r++) rowY.push(gap + r * (tile + gap));
  return { count, perRow: columns, rows, tile, gap, width: x, height: gap + rows * (tile + gap), colX, rowY };
}

/** The slot under natural pixel (x, y), with the pixel inside the tile; null on a gap or outside. */
export function tileAt(layout: TileLayout, x: number, y: number): { slot: number; px: number; py: number } | null {
  const { tile } = layout;
  const row = Math.floor((y - layout.gap) / (tile + layout.gap));
  if (row < 0 || row >= layout.rows) return null;
  const py = Math.floor(y - layout.rowY[row]);
  if (py < 0 || py >= tile) return null;
  let col = -1;
  for (let c = layout.perRow - 1; c >= 0; c--) {
    if (x >= layout.colX[c]) {
      col = c;
      break;
    }
  }
  if (col < 0) return null;
  const px = Math.floor(x - layout.colX[col]);
  if (px >= tile) return null;
  const slot = row * layout.perRow + col;
  return slot < layout.count ? { slot, px, py } : null;
}

/** The value range of each row of a [rows, width] matrix. */
export function rowRanges(data: ArrayLike<number>, rows: number, width: number): FiniteRange[] {
  const out: FiniteRange[] = [];
  for (let r = 0; r < rows; r++) out.push(finiteRange(data, r * width, (r + 1) * width));
  return out;
}

/**
 * Paint rows of `data` ([rows, tile²]) into the slots of `layout`: slot s shows row `slots[s]`
 * (negative: left empty). `domainOf(row)` gives each row's colour range. Returns the number of
 * non-finite values painted.
 */
export function paintTiles(
  data: ArrayLike<number>,
  slots: ArrayLike<number>,
  layout: TileLayout,
  pixels: Uint8ClampedArray,
  lut: Lut,
  domainOf: (row: number) => Domain,
): number {
  const { tile, width } = layout;
  const area = tile * tile;
  const words = pixelWords(pixels);
  const table = packedLut(lut);
  const top = table.length - 2; // the last entry is the non-finite colour
  const nan = table[table.length - 1];
  let nonfinite = 0;
  for (let s = 0; s < layout.count && s < slots.length; s++) {
    const row = slots[s];
    if (row < 0) continue;
    const { lo, hi } = domainOf(row);
    const scale = top / (hi - lo);
    const x0 = layout.colX[s % layout.perRow];
    const y0 = layout.rowY[Math.floor(s / layout.perRow)];
    let src = row * area;
    for (let py = 0; py < tile; py++) {
      let dst = (y0 + py) * width + x0;
      for (let px = 0; px < tile; px++, src++, dst++) {
        const v = data[src];
        if (v - v !== 0) {
          nonfinite++;
          words[dst] = nan;
          continue;
        }
        const t = (v - lo) * scale;
        words[dst] = table[t <= 0 ? 0 : t >= top ? top : (t + 0.5) | 0];
      }
    }
  }
  return nonfinite;
}
