import { useStore } from "@nanostores/react";
import { type PointerEvent, useMemo, useState } from "react";

import { $darkScheme } from "../lib/color-scheme-store";
import { formatCount, formatPercent } from "../lib/format";
import { $modelHistograms } from "../lib/model-store";
import { binLabel, histogramImage } from "../lib/model-table";
import { finiteRange, lutFor, paintValues } from "../lib/views/colour";
import { ColourBar, HoverTip, usePaintedCanvas } from "./views/parts";

const HEIGHT = 200;
const MAX_WIDTH = 640;

/**
 * The picked parameter's |weight| histogram at every step with statistics: one column per step
 * (oldest left), one row per fixed power-of-two bin (zeros at the bottom), the colour the share of
 * the elements in the bin (0 to the largest share shown).
 */
export default function ModelHistograms() {
  const histograms = useStore($modelHistograms, { ssr: "initial" });
  const dark = useStore($darkScheme, { ssr: "initial" });
  const [hover, setHover] = useState<{ row: number; col: number; x: number; y: number } | null>(null);
  const image = useMemo(() => (histograms ? histogramImage(histograms) : { data: new Float32Array(0), rows: 0, cols: 0 }), [histograms]);
  const lut = lutFor("viridis", dark);
  // Fitted to the largest share: a fixed 0..1 would leave every bin but the biggest dark.
  const top = useMemo(() => Math.max(finiteRange(image.data).max || 0, 1e-6), [image]);
  const domain = { lo: 0, hi: top };
  const canvasRef = usePaintedCanvas(image.cols, image.rows, (pixels) => paintValues(image.data, pixels, lut, domain), [image, lut, top]);
  if (!histograms || image.cols === 0) return <p className="model-empty">No histograms yet: they are kept at each step with statistics.</p>;

  const width = Math.min(MAX_WIDTH, Math.max(image.cols * 4, 160));
  const onMove = (event: PointerEvent<HTMLCanvasElement>) => {
    const box = event.currentTarget.getBoundingClientRect();
    const col = Math.floor(((event.clientX - box.left) / box.width) * image.cols);
    const row = Math.floor(((event.clientY - box.top) / box.height) * image.rows);
    if (row < 0 || col < 0 || row >= image.rows || col >= image.cols) setHover(null);
    else setHover({ row, col, x: event.clientX - box.left, y: event.clientY - box.top });
  };
  const bin = hover ? image.rows - 1 - hover.row : 0;
  return (
    <figure className="model-figure" data-testid="model-histograms" data-steps={image.cols} data-parameter={histograms.parameter}>
      <figcaption>
        |<span className="mono">{histograms.parameter}</span>| over {formatCount(image.cols)} steps, from step{" "}
        {formatCount(histograms.steps[0])} to {formatCount(histograms.steps[image.cols - 1])}
      </figcaption>
      <div className="model-canvas-frame" style={{ width, height: HEIGHT }}>
        <canvas
          ref={canvasRef}
          className="model-canvas"
          style={{ width, height: HEIGHT }}
          onPointerMove={onMove}
          onPointerLeave={() => setHover(null)}
          data-testid="model-histograms-canvas"
        />
        {hover && (
          <HoverTip x={hover.x} y={hover.y} frameWidth={width} testId="model-histograms-tip">
            <div className="mono">
              step {formatCount(histograms.steps[hover.col])} · |w| {binLabel(histograms.edges, bin)}
            </div>
            <div className="mono">{formatPercent(image.data[hover.row * image.cols + hover.col])} of the elements</div>
          </HoverTip>
        )}
      </div>
      <ColourBar lut={lut} domain={domain} nonfinite={0} />
    </figure>
  );
}
