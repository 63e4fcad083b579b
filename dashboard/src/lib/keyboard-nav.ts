// Which item an arrow key (or Home/End/PageUp/PageDown) moves to, for the keyboard-operable
// collections of the dashboard: the rows of a list (the metrics table), the cells of a grid drawn
// on a canvas (weight grids, heatmaps, bar charts) and the points of a scatter (the force
// scatter). Pure functions: the components own the focus and the selection.

export type Direction = "left" | "right" | "up" | "down";

/** The direction an arrow key names; null for any other key. */
export function arrowDirection(key: string): Direction | null {
  switch (key) {
    case "ArrowLeft":
      return "left";
    case "ArrowRight":
      return "right";
    case "ArrowUp":
      return "up";
    case "ArrowDown":
      return "down";
    default:
      return null;
  }
}

/** Enter and Space act on the item in focus (select it), like a click. */
export function isActivationKey(key: string): boolean {
  return key === "Enter" || key === " " || key === "Spacebar";
}

const clamp = (i: number, count: number) => Math.min(count - 1, Math.max(0, i));

/**
 * The position a key moves to in a vertical list of `count` items from `index`: ArrowDown/ArrowUp
 * one item, PageDown/PageUp `page` items, Home/End the first/last. It stops at the ends (no
 * wrapping). Null when the key does not move through the list (or the list is empty); an index
 * outside the list starts at the first item.
 */
export function listStep(key: string, index: number, count: number, page = 10): number | null {
  if (count <= 0) return null;
  if (index < 0 || index >= count) return key === "End" ? count - 1 : listMoves(key) ? 0 : null;
  switch (key) {
    case "ArrowDown":
      return clamp(index + 1, count);
    case "ArrowUp":
      return clamp(index - 1, count);
    case "PageDown":
      return clamp(index + Math.max(1, page), count);
    case "PageUp":
      return clamp(index - Math.max(1, page), count);
    case "Home":
      return 0;
    case "End":
      return count - 1;
    default:
      return null;
  }
}

function listMoves(key: string): boolean {
  return key === "ArrowDown" || key === "ArrowUp" || key === "PageDown" || key === "PageUp" || key === "Home" || key === "End";
}

/**
 * The cell a key moves to in a row-major grid of `count` cells, `perRow` to a row (the last row
 * may be short): arrows one cell (left/right stop at the row's ends, up/down keep the column and
 * stop at the first/last row that has it), Home/End the row's first/last cell, Ctrl+Home/Ctrl+End
 * the first/last cell, PageUp/PageDown `pageRows` rows. Null when the key does not move.
 */
export function gridStep(
  key: string,
  index: number,
  count: number,
  perRow: number,
  options: { ctrl?: boolean; pageRows?: number } = {},
): number | null {
  if (count <= 0 || perRow <= 0) return null;
  if (index < 0 || index >= count) return gridStep(key, 0, count, perRow, options) === null ? null : 0;
  const row = Math.floor(index / perRow);
  const col = index % perRow;
  const rows = Math.ceil(count / perRow);
  const lastInRow = Math.min(count - 1, row * perRow + perRow - 1);
  // Down: the same column on a row below, or the last cell when the last row is too short.
  const toRow = (r: number) => Math.min(count - 1, clamp(r, rows) * perRow + col);
  const page = Math.max(1, options.pageRows ?? 10);
  switch (key) {
    case "ArrowLeft":
      return col > 0 ? index - 1 : index;
    case "ArrowRight":
      return index < lastInRow ? index + 1 : index;
    case "ArrowUp":
      return row > 0 ? index - perRow : index;
    case "ArrowDown":
      return row < rows - 1 ? toRow(row + 1) : index;
    case "PageUp":
      return toRow(row - page);
    case "PageDown":
      return toRow(row + page);
    case "Home":
      return options.ctrl ? 0 : row * perRow;
    case "End":
      return options.ctrl ? count - 1 : lastInRow;
    default:
      return null;
  }
}

export interface Point {
  x: number;
  y: number;
}

/** Points closer than this (px) are one place: a stack the arrow keys walk through by index. */
export const SAME_PLACE = 0.5;

/**
 * The point an arrow key moves to in a scatter, from `points[from]`, in screen coordinates (y grows
 * downwards). Of the points that lie that way, the nearest wins, a point off the line counting
 * twice its sideways distance (so Right prefers the point straight to the right over a nearer one
 * far above). Points drawn on the same place (dead features all at 0, 0) form a stack: Right and
 * Down walk it up by index, Left and Up down by index, before leaving it; arriving at a stack lands
 * on its end that lets the same key walk it. Returns `from` when nothing lies that way, and ignores
 * points with a non-finite coordinate.
 */
export function nearestInDirection(points: readonly Point[], from: number, direction: Direction): number {
  const origin = points[from];
  if (!origin || !Number.isFinite(origin.x) || !Number.isFinite(origin.y)) return from;
  const forward = direction === "right" || direction === "down";
  // Within the stack at the origin: the next index in the walking direction.
  let stacked = -1;
  for (let j = 0; j < points.length; j++) {
    if (j === from || !samePlace(points[j], origin)) continue;
    if (forward ? j > from && (stacked < 0 || j < stacked) : j < from && (stacked < 0 || j > stacked)) stacked = j;
  }
  if (stacked >= 0) return stacked;

  let best = -1;
  let bestScore = Infinity;
  for (let j = 0; j < points.length; j++) {
    const p = points[j];
    if (j === from || !Number.isFinite(p.x) || !Number.isFinite(p.y) || samePlace(p, origin)) continue;
    const dx = p.x - origin.x;
    const dy = p.y - origin.y;
    const along = direction === "right" ? dx : direction === "left" ? -dx : direction === "down" ? dy : -dy;
    const across = Math.abs(direction === "left" || direction === "right" ? dy : dx);
    if (along <= 0) continue;
    const score = along + 2 * across;
    if (score < bestScore) {
      best = j;
      bestScore = score;
    }
  }
  if (best < 0) return from;
  // A stack ahead: forward keys land on its lowest index, backward keys on its highest.
  const target = points[best];
  for (let j = 0; j < points.length; j++) {
    if (j !== from && samePlace(points[j], target) && (forward ? j < best : j > best)) best = j;
  }
  return best;
}

function samePlace(a: Point, b: Point): boolean {
  return Math.abs(a.x - b.x) < SAME_PLACE && Math.abs(a.y - b.y) < SAME_PLACE;
}
