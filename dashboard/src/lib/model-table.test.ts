import { describe, expect, it } from "vitest";

import { binLabel, cellExtent, flattenGrid, histogramImage, nextSort, sortParameters } from "./model-table";
import type { ModelHeatmap, ModelHistograms, ParameterRow } from "./model-types";

function row(name: string, grad: number | null, numel = 4): ParameterRow {
  return {
    name,
    module: name.split(".")[0],
    shape: [numel],
    numel,
    weight_norm: 1,
    grad_norm: grad,
    update_norm: null,
    update_ratio: null,
    weight_nonfinite: 0,
    grad_nonfinite: 0,
  };
}

describe("sortParameters", () => {
  const rows = [row("a", 2), row("b", null), row("c", 5), row("d", 2)];

  it("keeps model order without a column", () => {
    expect(sortParameters(rows, { column: null, direction: "desc" }).map((r) => r.name)).toEqual(["a", "b", "c", "d"]);
  });

  it("sorts numbers both ways with nulls last and ties in model order", () => {
    expect(sortParameters(rows, { column: "grad_norm", direction: "desc" }).map((r) => r.name)).toEqual(["c", "a", "d", "b"]);
    expect(sortParameters(rows, { column: "grad_norm", direction: "asc" }).map((r) => r.name)).toEqual(["a", "d", "c", "b"]);
  });

  it("sorts names as text", () => {
    expect(sortParameters(rows, { column: "name", direction: "desc" }).map((r) => r.name)).toEqual(["d", "c", "b", "a"]);
  });
});

describe("nextSort", () => {
  it("cycles largest first, smallest first, model order", () => {
    let order = nextSort({ column: null, direction: "desc" }, "grad_norm");
    expect(order).toEqual({ column: "grad_norm", direction: "desc" });
    order = nextSort(order, "grad_norm");
    expect(order).toEqual({ column: "grad_norm", direction: "asc" });
    expect(nextSort(order, "grad_norm").column).toBeNull();
    expect(nextSort(order, "name")).toEqual({ column: "name", direction: "asc" });
  });
});

const heatmap: ModelHeatmap = {
  step: 3,
  key: "weight/w",
  shape: [5, 4],
  grid_shape: [5, 4],
  window: [0, 5, 0, 4],
  rows: 2,
  cols: 2,
  exact: false,
  row_starts: [0, 2],
  col_starts: [0, 2],
  min: [
    [0, 1],
    [2, null],
  ],
  max: [
    [1, 2],
    [3, 4],
  ],
  mean: [
    [0.5, 1.5],
    [2.5, 3.5],
  ],
  value_range: [0, 4],
};

describe("reduced heatmaps", () => {
  it("flattens a grid row-major, null as NaN", () => {
    expect(Array.from(flattenGrid(heatmap, "min"))).toEqual([0, 1, 2, NaN]);
  });

  it("knows the elements each cell covers", () => {
    expect(cellExtent(heatmap, 0, 0)).toEqual([0, 2, 0, 2]);
    expect(cellExtent(heatmap, 1, 1)).toEqual([2, 5, 2, 4]);
  });
});

describe("histograms over steps", () => {
  const histograms: ModelHistograms = {
    parameter: "w",
    edges: [0.25, 0.5, 1],
    steps: [10, 20],
    counts: [
      [1, 0, 1, 2],
      [0, 0, 0, 0],
    ],
    more: false,
  };

  it("draws each step's shares with the zeros at the bottom", () => {
    const image = histogramImage(histograms);
    expect(image.rows).toBe(4);
    expect(image.cols).toBe(2);
    // column 0: zeros 1/4 (bottom row), bin 3 (largest) 2/4 (top row)
    expect(image.data[3 * 2 + 0]).toBeCloseTo(0.25);
    expect(image.data[0 * 2 + 0]).toBeCloseTo(0.5);
    expect(image.data[0 * 2 + 1]).toBe(0); // an empty step stays blank
  });

  it("labels the bins", () => {
    expect(binLabel(histograms.edges, 0)).toBe("0");
    expect(binLabel(histograms.edges, 1)).toBe("< 2^-1");
    expect(binLabel(histograms.edges, 2)).toBe("[2^-1, 2^0)");
    expect(binLabel(histograms.edges, 3)).toBe("≥ 2^0");
  });
});
