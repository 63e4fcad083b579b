// Mirrors `reduce_grid` in acc/tensor_grid.py: what every reduced read of a tensor says about the
// grid it answers (the model page's heatmaps and the step views' deferred tensors alike).

/** A tensor reduced to at most rows × cols cells, or a window of it. */
export interface TensorGridHeader {
  step: number;
  key: string;
  shape: number[];
  /** The tensor as 2-D: [shape[0], rest]. */
  grid_shape: [number, number];
  /** [r0, r1, c0, c1], half-open. */
  window: [number, number, number, number];
  rows: number;
  cols: number;
  /** One element a cell. */
  exact: boolean;
  row_starts: number[];
  col_starts: number[];
}
