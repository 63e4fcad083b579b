import { useStore } from "@nanostores/react";
import { type PointerEvent, useEffect, useMemo, useRef, useState } from "react";

import { formatCount, formatPercent, formatValue } from "../lib/format";
import { QUANTITY_NAMES, UPDATE_COSINE_LABEL } from "../lib/quantities";
import { maxAbs } from "../lib/runs/scale";
import { diverging, lutFor, lutGradient } from "../lib/views/colour";
import { $run } from "../lib/run-store";
import { $featureDetail, $watched, MAX_WATCHED, selectFeature, unwatchFeature, watchFeature } from "../lib/runs-store";
import type { ForceDetail } from "../lib/runs-types";
import { $darkScheme } from "../lib/color-scheme-store";
import { forceRelation } from "../lib/views/forces";

const IMAGES: { key: "weight" | "opt_delta" | "som_delta" | "combined_delta"; label: string; title: string }[] = [
  { key: "weight", ...QUANTITY_NAMES.encoder_weights },
  { key: "opt_delta", ...QUANTITY_NAMES.opt_delta },
  { key: "som_delta", ...QUANTITY_NAMES.som_delta },
  { key: "combined_delta", ...QUANTITY_NAMES.combined_delta },
];

/** One feature's weight and its three updates of the step as 28×28 images, and whether the forces agree. */
export default function RunsFeatureDetail() {
  const run = useStore($run, { ssr: () => null });
  const detail = useStore($featureDetail, { ssr: "initial" });
  const watched = useStore($watched, { ssr: "initial" });
  const data = detail.data;
  const feature = detail.feature;
  const isWatched = feature !== null && watched.includes(feature);

  return (
    <section className="card runs-detail-card" aria-labelledby="runs-detail-title" data-testid="runs-feature-detail" data-feature={feature ?? ""} data-status={detail.status}>
      <header className="card-head">
        <h2 id="runs-detail-title">
          {feature === null ? "Feature detail" : `Feature ${feature}`}
          {data && <span className="card-head-step">step {formatCount(data.step)}</span>}
          {detail.status === "loading" && <span className="spinner spinner-sm muted" aria-label="loading" />}
        </h2>
        {feature !== null && (
          <div className="btn-group">
            <button
              type="button"
              className="btn btn-sm"
              data-testid="runs-detail-watch-btn"
              disabled={!run || (!isWatched && watched.length >= MAX_WATCHED)}
              onClick={() => void (isWatched ? unwatchFeature(feature) : watchFeature(feature))}
              title={isWatched ? "Stop watching this feature" : `Follow this feature's trajectory (up to ${MAX_WATCHED})`}
            >
              {isWatched ? "Unwatch" : "Watch"}
            </button>
            <button type="button" className="btn btn-sm btn-icon-sm" aria-label="Close the detail" title="Close" onClick={() => void selectFeature(null)}>
              <svg viewBox="0 0 20 20" aria-hidden="true">
                <path d="M5 5l10 10M15 5L5 15" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
              </svg>
            </button>
          </div>
        )}
      </header>

      {feature === null ? (
        <div className="runs-detail-empty">
          <div className="runs-empty">
            <svg className="empty-icon" viewBox="0 0 24 24" aria-hidden="true">
              <circle cx="7" cy="15" r="2.2" fill="none" stroke="currentColor" strokeWidth="1.6" />
              <circle cx="15" cy="8" r="2.2" fill="none" stroke="currentColor" strokeWidth="1.6" />
              <circle cx="17" cy="17" r="2.2" fill="none" stroke="currentColor" strokeWidth="1.6" />
              <path d="M3 3v18h18" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" />
            </svg>
            <p className="empty-title">Pick a feature</p>
            <p className="empty-text">Click a point in the scatter to see its weight, its optimizer and SOM updates, and whether they agree.</p>
          </div>
        </div>
      ) : detail.status === "error" && !data ? (
        <div className="runs-detail-empty">
          <div className="runs-empty">
            <p className="empty-title">No detail for feature {feature}</p>
            <p className="empty-text" data-testid="runs-detail-error">
              {detail.detail}
            </p>
          </div>
        </div>
      ) : !data ? (
        <div className="runs-detail-empty">
          <span className="spinner" aria-hidden="true" /> Loading feature {feature}…
        </div>
      ) : (
        <DetailBody data={data} stale={detail.status === "error" ? detail.detail : null} />
      )}
    </section>
  );
}

function DetailBody({ data, stale }: { data: ForceDetail; stale: string | null }) {
  const dark = useStore($darkScheme, { ssr: "initial" });
  const cosine = data.grad_som_cosine;
  // The same thresholds as the inspector's feature focus and the scatter's counts.
  const verdict = cosine === null ? null : forceRelation(cosine);
  return (
    <div className="runs-detail-body">
      {stale && <p className="notice notice-warn runs-detail-stale">Showing step {data.step}: {stale}</p>}
      <div className="runs-detail-images">
        {IMAGES.map(({ key, label, title }) => (
          <FeatureImage key={key} label={label} title={title} values={data[key]} dark={dark} testId={`runs-detail-${key}`} />
        ))}
      </div>
      <div className="runs-detail-scale">
        <span className="mono">−max</span>
        <span className="ramp" style={{ background: lutGradient(lutFor("diverging", dark)) }} />
        <span className="mono">+max</span>
        <span className="muted">each image on its own symmetric scale</span>
      </div>
      <div className="runs-detail-facts">
        <div className="runs-cosine">
          <span className="runs-fact-label" title="Cosine between the optimizer's update and the SOM's update of this feature (opt_delta, som_delta)">
            {UPDATE_COSINE_LABEL}
          </span>
          <span className="runs-cosine-value">
            <span className="big-number mono-num" data-testid="runs-detail-cosine" data-value={cosine ?? ""}>
              {cosine === null ? "—" : cosine.toFixed(3)}
            </span>
            {verdict && <span className={`tag runs-verdict runs-verdict-${verdict}`}>forces {verdict}</span>}
          </span>
        </div>
        <dl className="runs-detail-numbers">
          <div title={QUANTITY_NAMES.grad_magnitude.title}>
            <dt>{QUANTITY_NAMES.grad_magnitude.label}</dt>
            <dd className="mono">{formatValue(data.grad_magnitude)}</dd>
          </div>
          <div title={QUANTITY_NAMES.som_magnitude.title}>
            <dt>{QUANTITY_NAMES.som_magnitude.label}</dt>
            <dd className="mono">{formatValue(data.som_magnitude)}</dd>
          </div>
          <div>
            <dt>win rate</dt>
            <dd className="mono">{data.win_rate === null ? "—" : formatPercent(Number(data.win_rate.toPrecision(3)))}</dd>
          </div>
        </dl>
      </div>
    </div>
  );
}

/** A 28×28 image on a canvas, diverging colours around 0; hover reads a pixel. */
function FeatureImage(props: { label: string; title: string; values: number[][] | null; dark: boolean; testId: string }) {
  const { values, dark } = props;
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [hover, setHover] = useState<{ r: number; c: number } | null>(null);
  const rows = values?.length ?? 0;
  const cols = values?.[0]?.length ?? 0;
  const max = useMemo(() => (values ? maxAbs(values.flat()) : 0), [values]);

  useEffect(() => {
    const canvas = canvasRef.current;
    const ctx = canvas?.getContext("2d");
    if (!canvas || !ctx || !values || !rows || !cols) return;
    const image = ctx.createImageData(cols, rows);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const [red, green, blue] = diverging(values[r][c], max, dark);
        const at = (r * cols + c) * 4;
        image.data[at] = red;
        image.data[at + 1] = green;
        image.data[at + 2] = blue;
        image.data[at + 3] = 255;
      }
    }
    ctx.putImageData(image, 0, 0);
  }, [values, rows, cols, max, dark]);

  const onMove = (event: PointerEvent<HTMLCanvasElement>) => {
    const box = event.currentTarget.getBoundingClientRect();
    const c = Math.floor(((event.clientX - box.left) / box.width) * cols);
    const r = Math.floor(((event.clientY - box.top) / box.height) * rows);
    setHover(r >= 0 && r < rows && c >= 0 && c < cols ? { r, c } : null);
  };

  return (
    <figure className="runs-detail-figure" title={props.title}>
      {values ? (
        <canvas
          ref={canvasRef}
          className="runs-detail-canvas"
          width={cols}
          height={rows}
          data-testid={props.testId}
          onPointerMove={onMove}
          onPointerLeave={() => setHover(null)}
        />
      ) : (
        <div className="runs-detail-canvas runs-detail-missing">n/a</div>
      )}
      <figcaption>
        <span className="runs-detail-label">{props.label}</span>
        <span className="mono muted runs-detail-readout">
          {hover && values ? `(${hover.r}, ${hover.c}) ${formatValue(values[hover.r][hover.c])}` : values ? `±${formatValue(max)}` : ""}
        </span>
      </figcaption>
    </figure>
  );
}
