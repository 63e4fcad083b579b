// Geometry of the trainer's image grids (acc/image_grid.py make_grid): 28×28 tiles, `columns` per
// row, 1 pixel of padding between tiles and around the grid. Used to tell which decoded code the
// pointer is over.

export const TILE = 28;
export const PADDING = 1;

/** The grid's size in image pixels. */
export function gridSize(count: number, columns: number, tile = TILE, padding = PADDING): { width: number; height: number } {
  const cols = Math.max(1, Math.min(columns, Math.max(count, 1)));
  const rows = Math.max(1, Math.ceil(count / cols));
  return { width: cols * (tile + padding) + padding, height: rows * (tile + padding) + padding };
}

/**
 * The tile under image pixel (`px`, `py`): its index in the grid (row-major), row and column; null
 * on the padding, outside the grid, or past the last tile.
 */
export function tileAt(
  px: number,
  py: number,
  count: number,
  columns: number,
  tile = TILE,
  padding = PADDING,
): { index: number; row: number; column: number } | null {
  const cols = Math.max(1, Math.min(columns, Math.max(count, 1)));
  const cell = tile + padding;
  const x = px - padding;
  const y = py - padding;
  if (x < 0 || y < 0) return null;
  const column = Math.floor(x / cell);
  const row = Math.floor(y / cell);
  if (column >= cols || x - column * cell >= tile || y - row * cell >= tile) return null;
  const index = row * cols + column;
  return index < count ? { index, row, column } : null;
}

/** The tile's centre as a fraction of the grid's width and height (for placing labels). */
export function tileCentre(index: number, count: number, columns: number, tile = TILE, padding = PADDING): { x: number; y: number } {
  const cols = Math.max(1, Math.min(columns, Math.max(count, 1)));
  const { width, height } = gridSize(count, columns, tile, padding);
  const row = Math.floor(index / cols);
  const column = index % cols;
  return {
    x: (padding + column * (tile + padding) + tile / 2) / width,
    y: (padding + row * (tile + padding) + tile / 2) / height,
  };
}
