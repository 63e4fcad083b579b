import { useStore } from "@nanostores/react";
import { type FocusEvent, type KeyboardEvent, memo, type PointerEvent, type ReactNode, useMemo, useRef, useState } from "react";

import { $darkScheme } from "../../lib/color-scheme-store";
import type { ValueScale } from "../../lib/generated/tensor-keys";
import { gridStep, isActivationKey } from "../../lib/keyboard-nav";
import { formatExact } from "../../lib/views/axes";
import { type Domain, domainFor, finiteRange, lutFor, mapFor } from "../../lib/views/colour";
import { paintTiles, rowRanges, squareSide, tileAt, tileLayout } from "../../lib/views/tiles";
import { ColourBar, Figure, HoverTip, Toggle, usePaintedCanvas, viewTestId } from "./parts";

export interface WeightGridProps {
  tensorKey: string;
  step: number;
  /** Row-major [rows, side²]: one picture per feature. */
  data: Float32Array | Int32Array;
  rows: number;
  /** The feature of the first row (a page of a wider tensor); 0 by default. */
  first?: number;
  /** Features in the whole tensor, when `data` is a page of it. */
  total?: number;
  /** Shown above the thumbnails (a page's controls). */
  pager?: ReactNode;
  pixels: number;
  scale: ValueScale;
  perRow?: number;
  focused?: number | null;
  /** Features drawn with a secondary outline (e.g. the focused feature's neighbours). */
  marked?: readonly number[] | null;
  onSelectFeature?: (feature: number) => void;
  description?: string;
  /** Largest CSS width of the grid (it also never exceeds its column). */
  maxWidth?: number;
  title?: string;
  /** Where the view sits (a trace section's id): part of its test ids. */
  place?: string;
}

type ScaleMode = "shared" | "feature";

const SCALE_OPTIONS = [
  { value: "shared" as const, label: "shared", title: "One colour range for every feature: sizes compare" },
  { value: "feature" as const, label: "per feature", title: "Each feature stretched over its own range: shapes compare" },
];

/**
 * A [D, 784] tensor as D 28×28 thumbnails, `perRow` per row. Signed tensors draw in a diverging
 * scale centred on 0, the others in grey like the digits. Hover names the feature; click selects it.
 * A selectable grid is one tab stop: the arrow keys move a cursor over the thumbnails (its tooltip
 * as under the pointer), Enter or Space selects the cursor's feature.
 */
function WeightGrid(props: WeightGridProps) {
  const { data, rows, pixels, scale } = props;
  const first = props.first ?? 0;
  const perRow = props.perRow ?? 8;
  const dark = useStore($darkScheme, { ssr: "initial" });
  const [mode, setMode] = useState<ScaleMode>("shared");
  const [hover, setHover] = useState<{ feature: number; px: number; py: number; x: number; y: number } | null>(null);
  const frameRef = useRef<HTMLDivElement>(null);

  const side = squareSide(pixels) ?? 0;
  const layout = useMemo(() => tileLayout(rows, perRow, side, 1), [rows, perRow, side]);
  const slots = useMemo(() => Int32Array.from({ length: rows }, (_, i) => i), [rows]);
  const range = useMemo(() => finiteRange(data), [data]);
  const shared = useMemo(() => domainFor(scale, range), [scale, range]);
  const perFeature = useMemo<Domain[] | null>(
    () => (mode === "feature" ? rowRanges(data, rows, pixels).map((r) => domainFor(scale, r, true)) : null),
    [mode, data, rows, pixels, scale],
  );
  const lut = lutFor(mapFor(scale, "image"), dark);

  const canvasRef = usePaintedCanvas(
    side ? layout.width : 0,
    side ? layout.height : 0,
    (out) => paintTiles(data, slots, layout, out, lut, perFeature ? (row) => perFeature[row] : () => shared),
    [data, slots, layout, lut, shared, perFeature],
  );

  if (!side) {
    return (
      <Figure tensorKey={props.tensorKey} view="weight-grid" step={props.step} shape={[rows, pixels]} description={props.description}>
        <p className="view-note">{pixels} values per feature are not a square picture.</p>
      </Figure>
    );
  }

  const maxWidth = props.maxWidth ?? layout.width * 2;
  const onMove = (event: PointerEvent<HTMLDivElement>) => {
    const box = event.currentTarget.getBoundingClientRect();
    const k = layout.width / box.width;
    const x = (event.clientX - box.left) * k;
    const y = (event.clientY - box.top) * k;
    const at = tileAt(layout, x, y);
    setHover(at ? { feature: at.slot, px: at.px, py: at.py, x: event.clientX - box.left, y: event.clientY - box.top } : null);
  };
  const tileStyle = (feature: number) => {
    const col = feature % layout.perRow;
    const row = Math.floor(feature / layout.perRow);
    return {
      left: `${(layout.colX[col] / layout.width) * 100}%`,
      top: `${(layout.rowY[row] / layout.height) * 100}%`,
      width: `${(side / layout.width) * 100}%`,
      height: `${(side / layout.height) * 100}%`,
    };
  };
  // Rows of this page: feature `first + slot`.
  const focused = props.focused === null || props.focused === undefined ? null : props.focused - first;

  // The keyboard's cursor is the hover thumbnail (its middle pixel); it starts on the focused feature.
  const cursorAt = (feature: number) => {
    const box = frameRef.current?.getBoundingClientRect();
    const col = feature % layout.perRow;
    const row = Math.floor(feature / layout.perRow);
    const mid = Math.floor(side / 2);
    const x = box ? ((layout.colX[col] + mid) / layout.width) * box.width : 0;
    const y = box ? ((layout.rowY[row] + mid) / layout.height) * box.height : 0;
    setHover({ feature, px: mid, py: mid, x, y });
  };
  const start = () => (focused !== null && focused >= 0 && focused < rows ? focused : 0);
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.altKey || event.metaKey) return;
    if (isActivationKey(event.key)) {
      if (!hover) return;
      event.preventDefault();
      props.onSelectFeature?.(first + hover.feature);
      return;
    }
    if (event.key === "Escape") {
      setHover(null);
      return;
    }
    const next = gridStep(event.key, hover ? hover.feature : start(), rows, layout.perRow, { ctrl: event.ctrlKey });
    if (next === null) return;
    event.preventDefault();
    cursorAt(next);
  };
  const onFocus = (event: FocusEvent<HTMLDivElement>) => {
    // A keyboard focus shows the cursor at once; a click's focus leaves it to the pointer.
    if (!hover && event.currentTarget.matches(":focus-visible")) cursorAt(start());
  };

  let tip = null;
  if (hover) {
    const value = data[hover.feature * pixels + hover.py * side + hover.px];
    tip = (
      <HoverTip x={hover.x + 14} y={hover.y} frameWidth={maxWidth} testId="weight-grid-tooltip" data={{ feature: first + hover.feature, value: String(value) }}>
        <span className="vtip-head">
          feature <strong>{first + hover.feature}</strong>
        </span>
        <span className="vtip-sub">
          pixel ({hover.py}, {hover.px}) <span className="mono">{formatExact(value)}</span>
        </span>
        {props.onSelectFeature && <span className="vtip-note">click or Enter to focus</span>}
      </HoverTip>
    );
  }

  return (
    <Figure
      tensorKey={props.tensorKey}
      view="weight-grid"
      step={props.step}
      place={props.place}
      shape={[props.total ?? rows, pixels]}
      title={props.title}
      description={props.description}
      controls={<Toggle value={mode} options={SCALE_OPTIONS} onChange={setMode} testId={viewTestId("scale", props.tensorKey, props.place)} />}
    >
      <div className="wg-body" style={{ maxWidth }}>
        {props.pager}
        <div
          ref={frameRef}
          className={props.onSelectFeature ? "wg-frame selectable" : "wg-frame"}
          onPointerMove={onMove}
          onPointerLeave={() => setHover(null)}
          onClick={() => hover && props.onSelectFeature?.(first + hover.feature)}
          {...(props.onSelectFeature && {
            tabIndex: 0,
            role: "application",
            "aria-roledescription": "feature picker",
            "aria-label": `${props.tensorKey}: arrow keys move between features, Enter focuses one`,
            onKeyDown,
            onFocus,
            onBlur: () => setHover(null),
          })}
        >
          <canvas
            ref={canvasRef}
            className="wg-canvas"
            data-testid="weight-grid-canvas"
            data-key={props.tensorKey}
            data-step={props.step}
            role="img"
            aria-label={`${props.tensorKey}: ${rows} features as ${side}×${side} pictures`}
          />
          {props.marked?.map((feature) =>
            feature - first >= 0 && feature - first < rows ? <span key={`m${feature}`} className="wg-mark" style={tileStyle(feature - first)} /> : null,
          )}
          {focused !== null && focused >= 0 && focused < rows && <span className="wg-focus" style={tileStyle(focused)} />}
          {hover && <span className="wg-hover" style={tileStyle(hover.feature)} />}
          {tip}
        </div>
        <ColourBar
          lut={lut}
          domain={perFeature && focused !== null && focused >= 0 && focused < rows ? perFeature[focused] : shared}
          centred={scale === "signed"}
          nonfinite={range.nonfinite}
        />
        {perFeature && <p className="view-note">{focused !== null && focused >= 0 && focused < rows ? `range of feature ${first + focused}; ` : ""}each feature uses its own range</p>}
      </div>
    </Figure>
  );
}

export default memo(WeightGrid);
