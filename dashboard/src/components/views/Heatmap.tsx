import { useStore } from "@nanostores/react";
import { type FocusEvent, type KeyboardEvent, memo, useMemo, useState, type PointerEvent } from "react";

import { $darkScheme } from "../../lib/color-scheme-store";
import { formatCount, formatValue } from "../../lib/format";
import type { ValueScale } from "../../lib/generated/tensor-keys";
import { gridStep, isActivationKey } from "../../lib/keyboard-nav";
import { formatExact } from "../../lib/views/axes";
import { finiteRange, heatmapColours, lutFor, paintValues, type RangeMode } from "../../lib/views/colour";
import { inverseOrder, permuteSquare } from "../../lib/views/matrix";
import { ColourBar, Figure, HoverTip, Toggle, usePaintedCanvas, viewTestId } from "./parts";

export interface HeatmapProps {
  tensorKey: string;
  step: number;
  /** Row-major [rows, cols] values. */
  data: Float32Array | Int32Array;
  rows: number;
  cols: number;
  scale: ValueScale;
  /** Singular/plural names of the axes ("image"/"images"). */
  rowName: [string, string];
  colName: [string, string];
  /** Which axes count features: they highlight the focused feature and select on click. */
  rowIsFeature?: boolean;
  colIsFeature?: boolean;
  /** Square matrices only: show rows and columns in this order (original indices). */
  order?: Int32Array | null;
  focused?: number | null;
  onSelectFeature?: (feature: number) => void;
  description?: string;
  /** Largest drawing, in CSS pixels; cells are whole pixels, square for a square matrix. */
  maxWidth?: number;
  maxHeight?: number;
  title?: string;
  /** Where the view sits (a trace section's id): part of its test ids. */
  place?: string;
}

const RANGE_OPTIONS: readonly { value: RangeMode; label: string; title: string }[] = [
  { value: "fixed", label: "0–1", title: "Fixed 0..1, comparable across steps" },
  { value: "fit", label: "fit", title: "Stretch the colours over this step's range" },
];

/** Cosines add the diverging −1..1 scale, their default: anti-aligned (−1) is blue, not the colour of 0. */
const COSINE_OPTIONS: readonly { value: RangeMode; label: string; title: string }[] = [
  { value: "signed", label: "−1…1", title: "Diverging −1..1: blue anti-aligned, white orthogonal, red aligned" },
  { value: "fixed", label: "0–1", title: "Fixed 0..1 (negative cosines draw as 0), comparable across steps" },
  { value: "fit", label: "fit", title: "Stretch the colours over this step's positive range" },
];

/**
 * Any [M, N] tensor as a canvas of M×N pixels (one per cell), scaled up with square pixels. Hover
 * names the row, the column and the exact value; a click on a feature column selects the feature.
 * A heatmap whose cells select a feature is one tab stop: the arrow keys move a cell cursor (its
 * tooltip as under the pointer), Enter or Space selects the cursor's feature.
 */
function Heatmap(props: HeatmapProps) {
  const { data, rows, cols, scale, order } = props;
  const dark = useStore($darkScheme, { ssr: "initial" });
  const [mode, setMode] = useState<RangeMode>(scale === "cosine" ? "signed" : "fixed");
  const [hover, setHover] = useState<{ r: number; c: number } | null>(null);

  const fixedScale = scale === "unit" || scale === "cosine";
  const shown = useMemo(
    () => (order && rows === cols && order.length === rows ? permuteSquare(data, rows, order) : data),
    [data, rows, cols, order],
  );
  const range = useMemo(() => finiteRange(data), [data]);
  const colours = useMemo(() => heatmapColours(scale, range, mode), [scale, range, mode]);
  const domain = colours.domain;
  const lut = lutFor(colours.map, dark);
  const position = useMemo(() => (order ? inverseOrder(order) : null), [order]);

  const canvasRef = usePaintedCanvas(cols, rows, (pixels) => paintValues(shown, pixels, lut, domain, rows * cols), [shown, lut, domain]);

  const square = rows === cols;
  const maxW = props.maxWidth ?? 320;
  const maxH = props.maxHeight ?? 384;
  let cw = Math.max(1, Math.min(12, Math.floor(maxW / cols)));
  let ch = Math.max(1, Math.min(12, Math.floor(maxH / rows)));
  if (square) cw = ch = Math.min(cw, ch);
  const width = cols * cw;
  const height = rows * ch;

  const original = (i: number) => (order ? order[i] : i);
  const onMove = (event: PointerEvent<HTMLDivElement>) => {
    const box = event.currentTarget.getBoundingClientRect();
    const c = Math.floor(((event.clientX - box.left) / box.width) * cols);
    const r = Math.floor(((event.clientY - box.top) / box.height) * rows);
    const inside = r >= 0 && r < rows && c >= 0 && c < cols;
    setHover((h) => (inside ? (h && h.r === r && h.c === c ? h : { r, c }) : null));
  };
  const onClick = () => {
    if (!hover || !props.onSelectFeature) return;
    if (props.colIsFeature) props.onSelectFeature(original(hover.c));
    else if (props.rowIsFeature) props.onSelectFeature(original(hover.r));
  };

  const focusPos = props.focused === null || props.focused === undefined ? null : position ? position[props.focused] : props.focused;
  const selectable = Boolean(props.onSelectFeature && (props.colIsFeature || props.rowIsFeature));

  // The keyboard's cell cursor is the hover cell: it starts on the focused feature's column (row).
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.altKey || event.metaKey) return;
    if (isActivationKey(event.key)) {
      if (!hover) return;
      event.preventDefault();
      onClick();
      return;
    }
    if (event.key === "Escape") {
      setHover(null);
      return;
    }
    const at = hover ? hover.r * cols + hover.c : startCell();
    const next = gridStep(event.key, at, rows * cols, cols, { ctrl: event.ctrlKey });
    if (next === null) return;
    event.preventDefault();
    setHover({ r: Math.floor(next / cols), c: next % cols });
  };
  const startCell = () => {
    if (focusPos === null) return 0;
    if (props.colIsFeature && focusPos < cols) return focusPos;
    if (props.rowIsFeature && focusPos < rows) return focusPos * cols;
    return 0;
  };
  const onFocus = (event: FocusEvent<HTMLDivElement>) => {
    // A keyboard focus shows the cursor at once; a click's focus leaves it to the pointer.
    if (!hover && event.currentTarget.matches(":focus-visible")) {
      const at = startCell();
      setHover({ r: Math.floor(at / cols), c: at % cols });
    }
  };

  let tip = null;
  if (hover) {
    const r0 = original(hover.r);
    const c0 = original(hover.c);
    const value = data[r0 * cols + c0];
    tip = (
      <HoverTip
        x={(hover.c + 1) * cw + 6}
        y={hover.r * ch + ch / 2}
        frameWidth={width}
        testId="heatmap-tooltip"
        data={{ row: r0, col: c0, value: String(value), key: props.tensorKey }}
      >
        <span className="vtip-head">
          {props.rowName[0]} <strong>{r0}</strong> · {props.colName[0]} <strong>{c0}</strong>
        </span>
        <span className={Number.isFinite(value) ? "vtip-value mono" : "vtip-value mono bad"}>{formatExact(value)}</span>
        {selectable && <span className="vtip-note">click or Enter to focus {props.colIsFeature ? `feature ${c0}` : `feature ${r0}`}</span>}
      </HoverTip>
    );
  }

  return (
    <Figure
      tensorKey={props.tensorKey}
      view="heatmap"
      step={props.step}
      place={props.place}
      shape={[rows, cols]}
      title={props.title}
      description={props.description}
      width={Math.max(width, 240)}
      controls={
        fixedScale ? (
          <Toggle
            value={mode}
            options={scale === "cosine" ? COSINE_OPTIONS : RANGE_OPTIONS}
            onChange={setMode}
            testId={viewTestId("range", props.tensorKey, props.place)}
          />
        ) : undefined
      }
    >
      <div className="hm-body">
        <div
          className={selectable ? "hm-frame selectable" : "hm-frame"}
          style={{ width, height }}
          onPointerMove={onMove}
          onPointerLeave={() => setHover(null)}
          onClick={onClick}
          {...(selectable && {
            tabIndex: 0,
            role: "application",
            "aria-roledescription": "feature picker",
            "aria-label": `${props.tensorKey}: arrow keys move between cells, Enter focuses the ${props.colIsFeature ? "column" : "row"}'s feature`,
            onKeyDown,
            onFocus,
            onBlur: () => setHover(null),
          })}
        >
          <canvas
            ref={canvasRef}
            className="hm-canvas"
            style={{ width, height }}
            data-testid="heatmap-canvas"
            data-key={props.tensorKey}
            data-step={props.step}
            data-range={mode}
            aria-label={`${props.tensorKey}: ${rows} ${props.rowName[1]} by ${cols} ${props.colName[1]}`}
            role="img"
          />
          {focusPos !== null && props.colIsFeature && focusPos < cols && (
            <span className="hm-focus col" style={{ left: focusPos * cw, width: cw }} />
          )}
          {focusPos !== null && props.rowIsFeature && focusPos < rows && (
            <span className="hm-focus row" style={{ top: focusPos * ch, height: ch }} />
          )}
          {hover && <span className="hm-cell" style={{ left: hover.c * cw, top: hover.r * ch, width: cw, height: ch }} />}
          {tip}
        </div>
        <div className="hm-axes">
          <span>
            rows: {formatCount(rows)} {props.rowName[1]}
            {order ? " (reordered)" : ""}
          </span>
          <span>
            columns: {formatCount(cols)} {props.colName[1]}
            {order ? " (reordered)" : ""}
          </span>
        </div>
        {fixedScale && mode === "fixed" && range.count > 0 && range.max - Math.max(0, range.min) < 0.1 && (
          <button type="button" className="hm-hint" onClick={() => setMode("fit")} data-testid={viewTestId("fit-hint", props.tensorKey, props.place)}>
            uses only {formatValue(range.min)}–{formatValue(range.max)} of 0–1 · fit
          </button>
        )}
        <ColourBar
          lut={lut}
          domain={domain}
          centred={colours.map === "diverging"}
          clampLow={scale === "cosine" && mode !== "signed"}
          fixed={fixedScale && mode !== "fit"}
          nonfinite={range.nonfinite}
        />
      </div>
    </Figure>
  );
}

export default memo(Heatmap);
