import { useStore } from "@nanostores/react";
import { type KeyboardEvent, memo, type MouseEvent, type PointerEvent, useMemo, useState } from "react";

import { $darkScheme } from "../../lib/color-scheme-store";
import { formatCount, formatValue } from "../../lib/format";
import type { ValueScale } from "../../lib/generated/tensor-keys";
import { gridStep, isActivationKey } from "../../lib/keyboard-nav";
import { formatExact } from "../../lib/views/axes";
import { finiteRange, heatmapColours, lutFor, paintValues, type RangeMode } from "../../lib/views/colour";
import { type GridWindow, type TensorGrid, useTensorGrid } from "../../lib/views/step-tensors";
import type { StepFrame } from "../../lib/tensor-frame";
import { ColourBar, Figure, HoverTip, Toggle, usePaintedCanvas, viewTestId } from "./parts";

export interface GridHeatmapProps {
  frame: StepFrame;
  tensorKey: string;
  /** The tensor's [rows, cols] (from the frame's `deferred` list). */
  shape: readonly [number, number];
  scale: ValueScale;
  rowName: [string, string];
  colName: [string, string];
  rowIsFeature?: boolean;
  colIsFeature?: boolean;
  focused?: number | null;
  onSelectFeature?: (feature: number) => void;
  description?: string;
  maxWidth?: number;
  maxHeight?: number;
  place?: string;
}

/** Cells a side of a zoom window: few enough that each is a few pixels and the values are exact. */
const ZOOM_CELLS = 48;

const RANGE_OPTIONS: readonly { value: RangeMode; label: string; title: string }[] = [
  { value: "fixed", label: "0–1", title: "Fixed 0..1, comparable across steps" },
  { value: "fit", label: "fit", title: "Stretch the colours over this step's range" },
];
const COSINE_OPTIONS: readonly { value: RangeMode; label: string; title: string }[] = [
  { value: "signed", label: "−1…1", title: "Diverging −1..1: blue anti-aligned, white orthogonal, red aligned" },
  { value: "fixed", label: "0–1", title: "Fixed 0..1 (negative cosines draw as 0)" },
  { value: "fit", label: "fit", title: "Stretch the colours over the drawn range" },
];

/** The tensor elements cell `i` of a grid covers along one axis: [start, end). */
function extent(starts: readonly number[], i: number, end: number): [number, number] {
  return [starts[i], i + 1 < starts.length ? starts[i + 1] : end];
}

/** The cell of a grid axis holding tensor index `index`, or null outside the window. */
function cellOf(starts: readonly number[], index: number, end: number): number | null {
  if (!starts.length || index < starts[0] || index >= end) return null;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= index) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** A window of at most `cells` a side around [r, c], inside a rows × cols tensor. */
function zoomAround(r: number, c: number, rows: number, cols: number, cells: number): GridWindow {
  const h = Math.min(rows, cells);
  const w = Math.min(cols, cells);
  const r0 = Math.max(0, Math.min(rows - h, r - Math.floor(h / 2)));
  const c0 = Math.max(0, Math.min(cols - w, c - Math.floor(w / 2)));
  return [r0, r0 + h, c0, c0 + w];
}

/**
 * A tensor the step's frame left out, drawn from the trainer's reduction at the size of the
 * canvas: each cell the mean of the elements it covers (hover shows their min, mean and max).
 * Clicking a reduced cell zooms into a window around it whose values come back exact; there a
 * click (or Enter) on a feature focuses it, and "Whole tensor" goes back.
 */
function GridHeatmap(props: GridHeatmapProps) {
  const { frame, tensorKey, scale } = props;
  const [rowsTotal, colsTotal] = props.shape;
  const dark = useStore($darkScheme, { ssr: "initial" });
  const [mode, setMode] = useState<RangeMode>(scale === "cosine" ? "signed" : "fixed");
  const [zoom, setZoom] = useState<GridWindow | null>(null);
  const [hover, setHover] = useState<{ r: number; c: number } | null>(null);
  const maxW = props.maxWidth ?? 320;
  const maxH = props.maxHeight ?? 384;
  const square = rowsTotal === colsTotal;
  const side = Math.min(maxW, maxH);
  const request = zoom
    ? { rows: zoom[1] - zoom[0], cols: zoom[3] - zoom[2], window: zoom }
    : { rows: Math.min(rowsTotal, square ? side : maxH), cols: Math.min(colsTotal, square ? side : maxW) };
  const state = useTensorGrid(frame, tensorKey, request);
  const grid: TensorGrid | null = state.status === "ready" ? state.grid : null;

  const values = grid?.mean ?? null;
  const range = useMemo(() => finiteRange(values ?? []), [values]);
  const colours = useMemo(() => heatmapColours(scale, range, mode), [scale, range, mode]);
  const lut = lutFor(colours.map, dark);
  const rows = grid?.rows ?? 0;
  const cols = grid?.cols ?? 0;
  const domain = colours.domain;
  const canvasRef = usePaintedCanvas(cols, rows, (pixels) => values && paintValues(values, pixels, lut, domain, rows * cols), [values, lut, domain]);

  let cw = Math.max(1, Math.min(12, Math.floor(maxW / Math.max(cols, 1))));
  let ch = Math.max(1, Math.min(12, Math.floor(maxH / Math.max(rows, 1))));
  if (square && rows === cols) cw = ch = Math.min(cw, ch);
  const width = cols * cw;
  const height = rows * ch;
  const fixedScale = scale === "unit" || scale === "cosine";
  const selectable = Boolean(props.onSelectFeature && (props.colIsFeature || props.rowIsFeature));

  const window = grid?.window ?? [0, rowsTotal, 0, colsTotal];
  const rowExtent = (r: number) => (grid ? extent(grid.rowStarts, r, window[1]) : [r, r + 1]);
  const colExtent = (c: number) => (grid ? extent(grid.colStarts, c, window[3]) : [c, c + 1]);

  const activate = (cell: { r: number; c: number }) => {
    if (!grid) return;
    const [r0] = rowExtent(cell.r);
    const [c0] = colExtent(cell.c);
    if (!grid.exact) {
      setHover(null);
      setZoom(zoomAround(r0, c0, rowsTotal, colsTotal, ZOOM_CELLS));
      return;
    }
    if (props.colIsFeature) props.onSelectFeature?.(c0);
    else if (props.rowIsFeature) props.onSelectFeature?.(r0);
  };
  // The cell under the pointer, from the event itself (a click needs no earlier pointer move).
  const cellAt = (event: MouseEvent<HTMLDivElement>): { r: number; c: number } | null => {
    const box = event.currentTarget.getBoundingClientRect();
    const c = Math.floor(((event.clientX - box.left) / box.width) * cols);
    const r = Math.floor(((event.clientY - box.top) / box.height) * rows);
    return r >= 0 && r < rows && c >= 0 && c < cols ? { r, c } : null;
  };
  const onMove = (event: PointerEvent<HTMLDivElement>) => {
    const cell = cellAt(event);
    setHover((h) => (cell ? (h && h.r === cell.r && h.c === cell.c ? h : cell) : null));
  };
  const onClick = (event: MouseEvent<HTMLDivElement>) => {
    const cell = cellAt(event);
    if (cell) activate(cell);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.altKey || event.metaKey || !grid) return;
    if (isActivationKey(event.key)) {
      if (!hover) return;
      event.preventDefault();
      activate(hover);
      return;
    }
    if (event.key === "Escape") {
      if (zoom) setZoom(null);
      setHover(null);
      return;
    }
    const at = hover ? hover.r * cols + hover.c : 0;
    const next = gridStep(event.key, at, rows * cols, cols, { ctrl: event.ctrlKey });
    if (next === null) return;
    event.preventDefault();
    setHover({ r: Math.floor(next / cols), c: next % cols });
  };

  const focused = props.focused ?? null;
  const focusCol = grid && focused !== null && props.colIsFeature ? cellOf(grid.colStarts, focused, window[3]) : null;
  const focusRow = grid && focused !== null && props.rowIsFeature ? cellOf(grid.rowStarts, focused, window[1]) : null;

  let tip = null;
  if (hover && grid && hover.r < rows && hover.c < cols) {
    const at = hover.r * cols + hover.c;
    const [ra, rb] = rowExtent(hover.r);
    const [ca, cb] = colExtent(hover.c);
    const value = grid.mean[at];
    tip = (
      <HoverTip
        x={(hover.c + 1) * cw + 6}
        y={hover.r * ch + ch / 2}
        frameWidth={width}
        testId="grid-heatmap-tooltip"
        data={{ row: ra, col: ca, value: String(value), key: tensorKey, exact: String(grid.exact) }}
      >
        {grid.exact ? (
          <>
            <span className="vtip-head">
              {props.rowName[0]} <strong>{ra}</strong> · {props.colName[0]} <strong>{ca}</strong>
            </span>
            <span className={Number.isFinite(value) ? "vtip-value mono" : "vtip-value mono bad"}>{formatExact(value)}</span>
            {selectable && <span className="vtip-note">click or Enter to focus feature {props.colIsFeature ? ca : ra}</span>}
          </>
        ) : (
          <>
            <span className="vtip-head">
              {props.rowName[1]} {ra}–{rb - 1} · {props.colName[1]} {ca}–{cb - 1}
            </span>
            <span className="vtip-sub mono">
              min {formatValue(grid.min[at])} · mean {formatValue(value)} · max {formatValue(grid.max[at])}
            </span>
            <span className="vtip-note">click or Enter to zoom in (exact values)</span>
          </>
        )}
      </HoverTip>
    );
  }

  const controls = fixedScale ? (
    <Toggle value={mode} options={scale === "cosine" ? COSINE_OPTIONS : RANGE_OPTIONS} onChange={setMode} testId={viewTestId("range", tensorKey, props.place)} />
  ) : undefined;

  return (
    <Figure
      tensorKey={tensorKey}
      view="heatmap"
      step={frame.step}
      place={props.place}
      shape={props.shape}
      description={props.description}
      width={Math.max(width, 300)}
      controls={controls}
    >
      <div className="hm-body" data-testid={viewTestId("grid-heatmap", tensorKey, props.place)} data-status={state.status} data-exact={grid ? String(grid.exact) : undefined} data-window={window.join(",")}>
        {!grid ? (
          <div
            className={state.status === "error" || state.status === "unavailable" ? "view-loading bad" : "view-loading"}
            style={{ width: Math.min(maxW, colsTotal), height: Math.min(maxH, square ? Math.min(maxW, rowsTotal) : rowsTotal) }}
            data-testid={viewTestId("loading", tensorKey, props.place)}
            role="status"
          >
            {state.status === "loading" ? `loading ${tensorKey}…` : state.status === "ready" ? "" : state.message}
          </div>
        ) : (
          <div
            className={selectable || !grid.exact ? "hm-frame selectable" : "hm-frame"}
            style={{ width, height, cursor: grid.exact ? undefined : "zoom-in" }}
            onPointerMove={onMove}
            onPointerLeave={() => setHover(null)}
            onClick={onClick}
            tabIndex={0}
            role="application"
            aria-roledescription={grid.exact ? "feature picker" : "zoomable heatmap"}
            aria-label={`${tensorKey}: arrow keys move between cells, Enter ${grid.exact ? "focuses the feature" : "zooms in"}, Escape shows the whole tensor`}
            onKeyDown={onKeyDown}
            onBlur={() => setHover(null)}
          >
            <canvas
              ref={canvasRef}
              className="hm-canvas"
              style={{ width, height }}
              data-testid="grid-heatmap-canvas"
              data-key={tensorKey}
              data-step={frame.step}
              data-rows={rows}
              data-cols={cols}
              role="img"
              aria-label={`${tensorKey}: ${rowsTotal} ${props.rowName[1]} by ${colsTotal} ${props.colName[1]}, drawn as ${rows} by ${cols} cells`}
            />
            {focusCol !== null && <span className="hm-focus col" style={{ left: focusCol * cw, width: cw }} />}
            {focusRow !== null && <span className="hm-focus row" style={{ top: focusRow * ch, height: ch }} />}
            {hover && <span className="hm-cell" style={{ left: hover.c * cw, top: hover.r * ch, width: cw, height: ch }} />}
            {tip}
          </div>
        )}
        <div className="hm-axes">
          <span>
            rows {formatCount(window[0])}–{formatCount(window[1] - 1)} of {formatCount(rowsTotal)} {props.rowName[1]}
          </span>
          <span>
            columns {formatCount(window[2])}–{formatCount(window[3] - 1)} of {formatCount(colsTotal)} {props.colName[1]}
          </span>
          {grid && <span data-testid={viewTestId("grid-note", tensorKey, props.place)}>{grid.exact ? "exact values" : `${rows} × ${cols} cells, the mean of each · click to zoom`}</span>}
          {zoom && (
            <button type="button" className="hm-hint" onClick={() => setZoom(null)} data-testid={viewTestId("zoom-out", tensorKey, props.place)}>
              whole tensor
            </button>
          )}
        </div>
        <ColourBar lut={lut} domain={domain} centred={colours.map === "diverging"} clampLow={scale === "cosine" && mode !== "signed"} fixed={fixedScale && mode !== "fit"} nonfinite={range.nonfinite} />
      </div>
    </Figure>
  );
}

export default memo(GridHeatmap);
