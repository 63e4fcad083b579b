import { useStore } from "@nanostores/react";
import { type PointerEvent, useMemo, useState } from "react";

import { $darkScheme } from "../lib/color-scheme-store";
import { formatCount, formatValue } from "../lib/format";
import {
  $heatmapKind,
  $heatmapWindow,
  $modelHeatmap,
  $modelPicked,
  $modelState,
  pickHeatmapKind,
  zoomHeatmap,
} from "../lib/model-store";
import { cellExtent, flattenGrid } from "../lib/model-table";
import { finiteRange, heatmapColours, lutFor, paintValues } from "../lib/views/colour";
import { ColourBar, HoverTip, Toggle, usePaintedCanvas } from "./views/parts";

const KIND_OPTIONS = [
  { value: "weight", label: "weight", title: "The weight after the step" },
  { value: "grad", label: "grad", title: "The gradient of the step" },
  { value: "update", label: "update", title: "The step's change of the weight" },
] as const;

/** Largest drawing in CSS pixels: cells are whole pixels, scaled up. */
const MAX_SIDE = 512;

/**
 * The picked parameter's weight, gradient or update of the newest held step, as the trainer reduced
 * it to the canvas (each cell the mean of the elements it covers; hover shows their min, max and
 * mean). A click zooms into the cell's elements; a window that fits comes back exact.
 */
export default function ModelHeatmap() {
  const heatmap = useStore($modelHeatmap, { ssr: "initial" });
  const picked = useStore($modelPicked, { ssr: "initial" });
  const kind = useStore($heatmapKind, { ssr: "initial" });
  const zoom = useStore($heatmapWindow, { ssr: "initial" });
  const state = useStore($modelState, { ssr: "initial" });
  const dark = useStore($darkScheme, { ssr: "initial" });
  const [hover, setHover] = useState<{ row: number; col: number; x: number; y: number } | null>(null);

  const values = useMemo(() => (heatmap ? flattenGrid(heatmap, "mean") : new Float32Array(0)), [heatmap]);
  const range = useMemo(() => finiteRange(values), [values]);
  const { map, domain } = heatmapColours("signed", range, "fixed");
  const lut = lutFor(map, dark);
  const rows = heatmap?.rows ?? 0;
  const cols = heatmap?.cols ?? 0;
  const cell = Math.max(1, Math.floor(MAX_SIDE / Math.max(rows, cols, 1)));
  const canvasRef = usePaintedCanvas(cols, rows, (pixels) => paintValues(values, pixels, lut, domain), [values, lut, domain.lo, domain.hi]);

  if (picked === null) return <p className="model-empty">Pick a parameter in the table.</p>;
  if (state?.last_full_step == null || !heatmap) {
    return (
      <figure className="model-figure" data-testid="model-heatmap-empty">
        <figcaption>
          <span className="mono">{picked}</span>
        </figcaption>
        <p className="model-empty">Tensors are held for steps taken while paused: Pause, then Step, to see them.</p>
      </figure>
    );
  }

  const onMove = (event: PointerEvent<HTMLCanvasElement>) => {
    const box = event.currentTarget.getBoundingClientRect();
    const col = Math.floor(((event.clientX - box.left) / box.width) * cols);
    const row = Math.floor(((event.clientY - box.top) / box.height) * rows);
    if (row < 0 || col < 0 || row >= rows || col >= cols) setHover(null);
    else setHover({ row, col, x: event.clientX - box.left, y: event.clientY - box.top });
  };
  const onClick = () => {
    if (!hover || heatmap.exact) return;
    zoomHeatmap(cellExtent(heatmap, hover.row, hover.col));
  };
  const hovered = hover ? cellExtent(heatmap, hover.row, hover.col) : null;
  const at = hover ? hover.row * cols + hover.col : -1;
  return (
    <figure className="model-figure" data-testid="model-heatmap" data-key={heatmap.key} data-step={heatmap.step} data-rows={rows} data-cols={cols} data-exact={heatmap.exact}>
      <figcaption>
        <span className="mono">{heatmap.key}</span> · step {formatCount(heatmap.step)} · [{heatmap.shape.join(", ")}]
        {heatmap.grid_shape.join(" × ") !== heatmap.shape.join(" × ") ? ` as ${heatmap.grid_shape.join(" × ")}` : ""}
        {heatmap.exact ? " · exact" : ` · ${rows} × ${cols} cells (mean of each)`}
      </figcaption>
      <div className="model-figure-tools">
        <Toggle value={kind} options={KIND_OPTIONS} onChange={pickHeatmapKind} testId="model-heatmap-kind" />
        {zoom && (
          <button type="button" onClick={() => zoomHeatmap(null)} data-testid="model-heatmap-reset">
            Whole tensor
          </button>
        )}
      </div>
      <div className="model-canvas-frame" style={{ width: cols * cell, height: rows * cell }}>
        <canvas
          ref={canvasRef}
          className="model-canvas"
          style={{ width: cols * cell, height: rows * cell, cursor: heatmap.exact ? "crosshair" : "zoom-in" }}
          onPointerMove={onMove}
          onPointerLeave={() => setHover(null)}
          onClick={onClick}
          data-testid="model-heatmap-canvas"
        />
        {hover && hovered && (
          <HoverTip x={hover.x} y={hover.y} frameWidth={cols * cell} testId="model-heatmap-tip">
            <div className="mono">
              {heatmap.exact
                ? `[${hovered[0]}, ${hovered[2]}] = ${formatValue(values[at])}`
                : `rows ${hovered[0]}–${hovered[1] - 1}, cols ${hovered[2]}–${hovered[3] - 1}`}
            </div>
            {!heatmap.exact && (
              <div className="mono">
                min {formatValue(heatmap.min[hover.row][hover.col])} · mean {formatValue(heatmap.mean[hover.row][hover.col])} · max{" "}
                {formatValue(heatmap.max[hover.row][hover.col])}
              </div>
            )}
          </HoverTip>
        )}
      </div>
      <ColourBar lut={lut} domain={domain} centred nonfinite={range.nonfinite} />
    </figure>
  );
}
