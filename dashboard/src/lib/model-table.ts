// Pure helpers of the model page: sorting the layer table, flattening a reduced heatmap for the
// painter, and the histograms-over-steps image.
import type { ModelHeatmap, ModelHistograms, ParameterRow } from "./model-types";

/** The sortable columns of the parameter table. */
export type ParameterColumn = keyof Pick<
  ParameterRow,
  "name" | "numel" | "weight_norm" | "grad_norm" | "update_norm" | "update_ratio" | "weight_nonfinite" | "grad_nonfinite"
>;

export type SortDirection = "asc" | "desc";

export interface SortOrder {
  column: ParameterColumn | null;
  direction: SortDirection;
}

/**
 * The rows ordered by `column` (model order when null); unmeasured (null) values always last, ties
 * in model order. Does not change `rows`.
 */
export function sortParameters(rows: readonly ParameterRow[], order: SortOrder): ParameterRow[] {
  const { column, direction } = order;
  if (column === null) return [...rows];
  const sign = direction === "asc" ? 1 : -1;
  const indexed = rows.map((row, index) => ({ row, index }));
  indexed.sort((a, b) => {
    const x = a.row[column];
    const y = b.row[column];
    if (x === null && y === null) return a.index - b.index;
    if (x === null) return 1;
    if (y === null) return -1;
    const cmp = typeof x === "string" ? x.localeCompare(String(y)) : x - (y as number);
    return cmp !== 0 ? sign * cmp : a.index - b.index;
  });
  return indexed.map(({ row }) => row);
}

/** The order after a click on `column`'s header: a new column sorts descending (largest first,
 * what one looks for), the same column flips, a third click goes back to model order. */
export function nextSort(order: SortOrder, column: ParameterColumn): SortOrder {
  if (order.column !== column) return { column, direction: column === "name" ? "asc" : "desc" };
  const first = column === "name" ? "asc" : "desc";
  if (order.direction === first) return { column, direction: first === "asc" ? "desc" : "asc" };
  return { column: null, direction: "desc" };
}

/** A reduced heatmap's `field` (min, max or mean) as row-major values, null as NaN. */
export function flattenGrid(heatmap: ModelHeatmap, field: "min" | "max" | "mean"): Float32Array {
  const grid = heatmap[field];
  const out = new Float32Array(heatmap.rows * heatmap.cols);
  for (let r = 0; r < heatmap.rows; r++) {
    const row = grid[r];
    for (let c = 0; c < heatmap.cols; c++) out[r * heatmap.cols + c] = row[c] ?? NaN;
  }
  return out;
}

/** The elements one cell of a reduced heatmap covers: [r0, r1, c0, c1], half-open. */
export function cellExtent(heatmap: ModelHeatmap, row: number, col: number): [number, number, number, number] {
  const [, r1, , c1] = heatmap.window;
  const r0 = heatmap.row_starts[row];
  const c0 = heatmap.col_starts[col];
  return [r0, heatmap.row_starts[row + 1] ?? r1, c0, heatmap.col_starts[col + 1] ?? c1];
}

/**
 * The histograms over steps as an image: one column per kept step (oldest left), one row per bin
 * (largest magnitudes on top, zeros at the bottom), each value the bin's share of the step's
 * elements. Returns row-major values and the size.
 */
export function histogramImage(histograms: ModelHistograms): { data: Float32Array; rows: number; cols: number } {
  const cols = histograms.steps.length;
  const rows = histograms.edges.length + 1;
  const data = new Float32Array(rows * cols);
  for (let c = 0; c < cols; c++) {
    const counts = histograms.counts[c];
    let total = 0;
    for (const count of counts) total += count;
    for (let bin = 0; bin < rows; bin++) {
      const row = rows - 1 - bin;
      data[row * cols + c] = total > 0 ? (counts[bin] ?? 0) / total : 0;
    }
  }
  return { data, rows, cols };
}

/** The range a histogram row stands for, for the tooltip: "0", "< 2^-23", "[2^3, 2^4)", "≥ 2^8". */
export function binLabel(edges: readonly number[], bin: number): string {
  if (bin === 0) return "0";
  const lo = edges[bin - 1];
  const exponent = Math.round(Math.log2(lo));
  if (bin === 1) return `< 2^${exponent + 1}`;
  if (bin === edges.length) return `≥ 2^${exponent}`;
  return `[2^${exponent}, 2^${exponent + 1})`;
}
