import { describe, expect, it } from "vitest";

import { decodeFrame } from "../tensor-frame";
import { decodeGrid, deferredSpec, gridPath } from "./step-tensors";

/** A frame as `acc/tensor_wire.py` writes it: magic, u32 header length, padded header, arrays. */
function frame(header: Record<string, unknown>, arrays: Record<string, Float32Array>): ArrayBuffer {
  const tensors: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, values] of Object.entries(arrays)) {
    tensors[name] = { dtype: "float32", shape: [values.length], offset, nbytes: values.byteLength };
    offset += Math.ceil(values.byteLength / 8) * 8;
  }
  let text = JSON.stringify({ ...header, tensors });
  while ((text.length + 8) % 8) text += " ";
  const buffer = new ArrayBuffer(8 + text.length + offset);
  const bytes = new Uint8Array(buffer);
  bytes.set([..."ACCF"].map((c) => c.charCodeAt(0)), 0);
  new DataView(buffer).setUint32(4, text.length, true);
  bytes.set(new TextEncoder().encode(text), 8);
  let at = 8 + text.length;
  for (const values of Object.values(arrays)) {
    bytes.set(new Uint8Array(values.buffer), at);
    at += Math.ceil(values.byteLength / 8) * 8;
  }
  return buffer;
}

const GRID_HEADER = {
  step: 3,
  key: "weight_cosine",
  shape: [1024, 1024],
  grid_shape: [1024, 1024],
  window: [0, 1024, 0, 1024],
  rows: 1,
  cols: 2,
  row_starts: [0],
  col_starts: [0, 512],
};

describe("deferred tensors", () => {
  it("lists what the step frame left out", () => {
    const deferred = { weight_cosine: { dtype: "float32", shape: [1024, 1024], nbytes: 4194304 } };
    const step = decodeFrame(
      frame({ step: 3, keys: ["loss", "weight_cosine"], scalars: {}, nonfinite: {}, images: {}, derived: [], deferred }, { loss: new Float32Array([0.5]) }),
    );
    expect(step.tensors.loss?.data[0]).toBe(0.5);
    expect(step.tensors.weight_cosine).toBeUndefined();
    expect(deferredSpec(step, "weight_cosine")).toEqual(deferred.weight_cosine);
    expect(deferredSpec(step, "loss")).toBeNull();
  });

  it("decodes a reduced grid with its min, max and mean per cell", () => {
    const grid = decodeGrid(
      frame({ ...GRID_HEADER, exact: false }, { min: new Float32Array([-1, 0]), max: new Float32Array([1, 2]), mean: new Float32Array([0, 1]) }),
    );
    expect(grid.exact).toBe(false);
    expect(Array.from(grid.min)).toEqual([-1, 0]);
    expect(Array.from(grid.max)).toEqual([1, 2]);
    expect(Array.from(grid.mean)).toEqual([0, 1]);
    expect(grid.colStarts).toEqual([0, 512]);
  });

  it("reads an exact grid's values once: min and max are the values", () => {
    const grid = decodeGrid(frame({ ...GRID_HEADER, exact: true, window: [0, 1, 0, 2] }, { mean: new Float32Array([0.25, -0.5]) }));
    expect(grid.min).toBe(grid.mean);
    expect(grid.max).toBe(grid.mean);
    expect(grid.window).toEqual([0, 1, 0, 2]);
  });

  it("asks for a window with all four bounds", () => {
    expect(gridPath("/runs/step", 7, "encoder_weights", { rows: 64, cols: 784, window: [64, 128, 0, 784] })).toBe(
      "/runs/step/7/tensor/encoder_weights?rows=64&cols=784&r0=64&r1=128&c0=0&c1=784",
    );
    expect(gridPath("/inspect/step", 1, "strength", { rows: 128, cols: 320 })).toBe("/inspect/step/1/tensor/strength?rows=128&cols=320");
    expect(gridPath("/archive/runs/a1b2/steps", 40, "grad_raw", { rows: 64, cols: 784 })).toBe(
      "/archive/runs/a1b2/steps/40/tensor/grad_raw?rows=64&cols=784",
    );
  });
});
