// The tensors of a step that its frame leaves out (over the frame's byte budget, listed in the
// header under `deferred`), read per view at the resolution it draws them: `GET
// <source>/{n}/tensor/{key}?rows=&cols=[&r0=&r1=&c0=&c1=]` answers a grid of at most
// rows × cols cells (min, max and mean of each; exact when the window fits the grid) as a frame.
// The page that shows a step says where its tensors come from (`StepSource`); without a source
// (a step that has no such route) a deferred tensor shows as not available.
import { createContext, useContext, useEffect, useMemo, useState } from "react";

import { fetchFrame } from "../api";
import { MAX_HEATMAP_CELLS } from "../generated/limits";
import type { FrameDeferredSpec } from "../inspect-types";
import { decodeFrame, FrameError, type StepFrame } from "../tensor-frame";
import type { TensorGridHeader } from "../tensor-grid-types";

/**
 * The path of the steps the frame came from, so a tensor reads as `<source>/{n}/tensor/{key}`:
 * "/inspect/step", "/runs/step", "/inspect/branches/3/step", "/archive/runs/{id}/steps" (null:
 * nowhere; a deferred tensor shows as not available).
 */
export const StepSource = createContext<string | null>(null);

/** A window of a 2-D tensor: rows r0..r1, columns c0..c1, half-open. */
export type GridWindow = readonly [number, number, number, number];

export interface GridRequest {
  rows: number;
  cols: number;
  window?: GridWindow | null;
}

/** One tensor of a step reduced to a grid (the trainer's `reduce_grid`). */
export interface TensorGrid {
  key: string;
  step: number;
  /** The tensor's shape, and the 2-D shape it is read as. */
  shape: number[];
  gridShape: [number, number];
  window: GridWindow;
  rows: number;
  cols: number;
  /** Every cell is one element: `mean` holds the values themselves. */
  exact: boolean;
  /** First tensor row (column) of each cell, in tensor indices. */
  rowStarts: number[];
  colStarts: number[];
  /** Row-major [rows, cols]; min and max are `mean` itself when exact. */
  mean: Float32Array;
  min: Float32Array;
  max: Float32Array;
}

export type GridState =
  | { status: "ready"; grid: TensorGrid }
  | { status: "loading" }
  | { status: "error"; message: string }
  | { status: "unavailable"; message: string };


/** Decode a grid frame (`grid_to_frame` on the trainer). */
export function decodeGrid(buffer: ArrayBuffer): TensorGrid {
  const frame = decodeFrame(buffer);
  const header = frame.header as unknown as TensorGridHeader;
  const tensors = frame.tensors as Record<string, { data: Float32Array | Int32Array } | undefined>;
  const mean = tensors.mean?.data;
  if (!(mean instanceof Float32Array) || mean.length !== header.rows * header.cols) {
    throw new FrameError(`grid of ${header.key}: mean is missing or not ${header.rows} × ${header.cols} float32`);
  }
  const min = tensors.min?.data;
  const max = tensors.max?.data;
  return {
    key: header.key,
    step: header.step,
    shape: header.shape,
    gridShape: header.grid_shape,
    window: header.window,
    rows: header.rows,
    cols: header.cols,
    exact: header.exact,
    rowStarts: header.row_starts,
    colStarts: header.col_starts,
    mean,
    min: min instanceof Float32Array ? min : mean,
    max: max instanceof Float32Array ? max : mean,
  };
}

/** What the frame says of a tensor it left out; null when the frame holds it (or the step does not). */
export function deferredSpec(frame: StepFrame, key: string): FrameDeferredSpec | null {
  return (frame.deferred as Record<string, FrameDeferredSpec>)[key] ?? null;
}

/** The path of a reduced read. */
export function gridPath(source: string, step: number, key: string, request: GridRequest): string {
  const query = new URLSearchParams({ rows: String(request.rows), cols: String(request.cols) });
  if (request.window) {
    const [r0, r1, c0, c1] = request.window;
    query.set("r0", String(r0));
    query.set("r1", String(r1));
    query.set("c0", String(c0));
    query.set("c1", String(c1));
  }
  return `${source}/${step}/tensor/${encodeURIComponent(key)}?${query}`;
}

/**
 * Tensor `key` of the frame's step as `request` asks (null: nothing to read), read again only when
 * the request, the step or the source changes; "loading" while the answer is on its way.
 */
export function useTensorGrid(frame: StepFrame, key: string, request: GridRequest | null): GridState {
  const source = useContext(StepSource);
  const path = request && source ? gridPath(source, frame.step, key, request) : null;
  const [answer, setAnswer] = useState<{ path: string; state: GridState } | null>(null);

  useEffect(() => {
    if (!path) return;
    const controller = new AbortController();
    fetchFrame(path, { signal: controller.signal }).then(
      (buffer) => setAnswer({ path, state: { status: "ready", grid: decodeGrid(buffer) } }),
      (err: unknown) => {
        if (controller.signal.aborted) return;
        setAnswer({ path, state: { status: "error", message: err instanceof Error ? err.message : String(err) } });
      },
    );
    return () => controller.abort();
  }, [path]);

  if (!request) return { status: "unavailable", message: `${key} is not held for this step` };
  if (!source) return { status: "unavailable", message: `${key} is not in this step's frame and this page cannot read it` };
  return answer?.path === path ? answer.state : { status: "loading" };
}

export interface TensorRow {
  /** The row's values; null while loading or when the step holds no such row. */
  row: Float32Array | Int32Array | null;
  status: "ready" | "loading" | "missing" | "error";
}

/**
 * Row `row` of a [rows, cols] tensor of the step (cols at most the grid limit, 1024): a view on
 * the frame's tensor when it holds it, else read exactly from the trainer.
 */
export function useTensorRow(frame: StepFrame, key: string, row: number | null): TensorRow {
  const inline = frame.tensors[key as keyof StepFrame["tensors"]];
  const spec = inline ? null : deferredSpec(frame, key);
  const cols = spec && spec.shape.length === 2 ? spec.shape[1] : 0;
  const wanted = spec !== null && row !== null && row >= 0 && row < spec.shape[0] && cols > 0;
  const state = useTensorGrid(frame, key, wanted ? { rows: 1, cols, window: [row, row + 1, 0, cols] } : null);
  const slice = useMemo(() => {
    if (!inline || row === null || inline.shape.length !== 2 || row < 0 || row >= inline.shape[0]) return null;
    const width = inline.shape[1];
    return inline.data.subarray(row * width, (row + 1) * width);
  }, [inline, row]);
  if (inline) return { row: slice, status: slice ? "ready" : "missing" };
  if (!wanted) return { row: null, status: "missing" };
  if (state.status === "ready") return state.grid.exact ? { row: state.grid.mean, status: "ready" } : { row: null, status: "error" };
  return { row: null, status: state.status === "loading" ? "loading" : "error" };
}

// One empty answer for every caller, so a memo over it does not recompute while nothing came.
const NO_MEANS: Readonly<Record<string, Float32Array>> = Object.freeze({});

/**
 * The batch mean of each feature for the [B, D] `keys` the frame left out (one grid row over
 * the whole batch, one cell a feature: D at most `MAX_HEATMAP_CELLS`), by key; `loading` until
 * all have come.
 */
export function useBatchMeans(frame: StepFrame, keys: readonly string[]): { means: Readonly<Record<string, Float32Array>>; loading: boolean } {
  const source = useContext(StepSource);
  const paths = keys
    .map((key) => {
      const spec = deferredSpec(frame, key);
      if (!source || !spec || spec.shape.length !== 2 || spec.shape[1] > MAX_HEATMAP_CELLS) return null;
      return [key, gridPath(source, frame.step, key, { rows: 1, cols: spec.shape[1] })] as const;
    })
    .filter((entry) => entry !== null);
  const wanted = paths.map(([, path]) => path).join("\n");
  const [answer, setAnswer] = useState<{ wanted: string; means: Record<string, Float32Array> } | null>(null);

  useEffect(() => {
    if (!wanted) return;
    const controller = new AbortController();
    const entries = wanted.split("\n").map((path) => {
      const key = decodeURIComponent(path.split("/tensor/")[1].split("?")[0]);
      return fetchFrame(path, { signal: controller.signal }).then((buffer) => [key, decodeGrid(buffer).mean] as const);
    });
    Promise.allSettled(entries).then((results) => {
      if (controller.signal.aborted) return;
      const means: Record<string, Float32Array> = {};
      for (const result of results) if (result.status === "fulfilled") means[result.value[0]] = result.value[1];
      setAnswer({ wanted, means });
    });
    return () => controller.abort();
  }, [wanted]);

  if (!wanted) return { means: NO_MEANS, loading: false };
  return answer?.wanted === wanted ? { means: answer.means, loading: false } : { means: NO_MEANS, loading: true };
}
