import { useStore } from "@nanostores/react";
import { type KeyboardEvent, type PointerEvent, useMemo, useState } from "react";

import { $darkScheme } from "../lib/color-scheme-store";
import { $focusedFeature, toggleFeature } from "../lib/feature-focus-store";
import {
  type Bucket,
  cellStats,
  FEATURE_HISTORY_KEYS,
  type FeatureMatrix,
  type FeatureStrip,
  featureTicks,
  paintStrip,
  stepTicks,
  stripOf,
} from "../lib/feature-timeline";
import { $featureError, $featureKey, $featureLoading, $featureMatrix, pickFeatureKey } from "../lib/feature-timeline-store";
import { formatCount, formatValue } from "../lib/format";
import { KEY_META, type StepTensorKey } from "../lib/generated/tensor-keys";
import { $inspectFrame, $inspectSelection, $inspectSession } from "../lib/inspect-store";
import { gridStep, isActivationKey } from "../lib/keyboard-nav";
import { useElementWidth } from "../lib/use-element-width";
import { formatExact } from "../lib/views/axes";
import { heatmapColours, lutFor, type RangeMode } from "../lib/views/colour";
import { ColourBar, HoverTip, Toggle, usePaintedCanvas } from "./views/parts";

/** Width of the feature labels left of the strip, in CSS pixels. */
const AXIS_LEFT = 36;
const AXIS_RIGHT = 8;
/** About how tall the strip is (rows are whole pixels, 2..6 each). */
const STRIP_HEIGHT = 288;
const LINE_HEIGHT = 96;

const RANGE_OPTIONS: readonly { value: RangeMode; label: string; title: string }[] = [
  { value: "fixed", label: "0–1", title: "Fixed 0..1, comparable across keys and sessions" },
  { value: "fit", label: "fit", title: "Stretch the colours over the values shown" },
];

interface Hover {
  c: number;
  f: number;
}

/**
 * One `[D]` history key (win_rate by default) over the session's steps: x = step, y = feature,
 * colour = value, so a feature that stops winning shows as a dark band from the step it died.
 * Longer sessions than pixel columns average the steps of a column (a NaN/Inf among them marks
 * the cell magenta). Hover names the step, the feature and the value; a click on a row focuses
 * that feature (as everywhere on the page) and draws its line below.
 */
export default function InspectFeatureTimeline() {
  const session = useStore($inspectSession, { ssr: () => null });
  const matrix = useStore($featureMatrix, { ssr: "initial" });
  const key = useStore($featureKey, { ssr: "initial" });
  const loading = useStore($featureLoading, { ssr: "initial" });
  const error = useStore($featureError, { ssr: "initial" });
  const frame = useStore($inspectFrame, { ssr: "initial" });
  const selection = useStore($inspectSelection, { ssr: "initial" });
  const focused = useStore($focusedFeature, { ssr: "initial" });
  const dark = useStore($darkScheme, { ssr: "initial" });
  const [bodyRef, bodyWidth] = useElementWidth<HTMLDivElement>(900);
  const [mode, setMode] = useState<RangeMode>("fixed");
  const [hover, setHover] = useState<Hover | null>(null);

  const meta = KEY_META[key];
  const unitScale = meta.scale === "unit";
  const plotWidth = Math.max(60, bodyWidth - AXIS_LEFT - AXIS_RIGHT);
  const own = matrix !== null && session !== null && matrix.sessionId === session.session_id && matrix.key === key;
  const shown = own ? matrix : null;
  const strip = useMemo(() => (shown ? stripOf(shown, plotWidth) : null), [shown, plotWidth]);
  const captured = frame?.header.session_id === session?.session_id ? frame?.header.keys : undefined;
  const alternative = captured ? FEATURE_HISTORY_KEYS.find((option) => option !== key && captured.includes(option)) : undefined;

  const steps = shown?.steps.length ?? 0;
  const dim = strip?.dim ?? 0;
  const drawable = strip !== null && strip.cols > 0 && dim > 0;
  // The strip spans the card: a column per step when they fit (as wide as the steps leave it), else
  // one per pixel with the steps averaged.
  const cw = drawable ? Math.max(1, plotWidth / strip.cols) : 1;
  const rh = dim > 0 ? Math.max(2, Math.min(6, Math.floor(STRIP_HEIGHT / dim))) : 4;
  const width = drawable ? Math.round(strip.cols * cw) : 0;
  const height = dim * rh;

  const range = { min: strip?.min ?? NaN, max: strip?.max ?? NaN, absMax: Math.max(Math.abs(strip?.min ?? 0), Math.abs(strip?.max ?? 0)), nonfinite: strip?.nonfinite ?? 0, count: strip?.count ?? 0 };
  const colours = heatmapColours(meta.scale, range, unitScale ? mode : "fixed");
  const lut = lutFor(colours.map, dark);
  const canvasRef = usePaintedCanvas(drawable ? strip.cols : 0, dim, (pixels) => strip && paintStrip(strip, pixels, lut, colours.domain), [
    strip,
    lut,
    colours.domain.lo,
    colours.domain.hi,
  ]);

  const downsampled = drawable && strip.cols < steps;
  const hovered = drawable && hover && hover.c < strip.cols && hover.f < dim ? hover : null;

  const pick = (event: { currentTarget: Element; clientX: number; clientY: number }): Hover | null => {
    if (!drawable) return null;
    const box = event.currentTarget.getBoundingClientRect();
    const c = Math.floor(((event.clientX - box.left) / box.width) * strip.cols);
    const f = Math.floor(((event.clientY - box.top) / box.height) * dim);
    return c >= 0 && c < strip.cols && f >= 0 && f < dim ? { c, f } : null;
  };
  const onMove = (event: PointerEvent<HTMLDivElement>) => {
    const at = pick(event);
    setHover((h) => (at && h && h.c === at.c && h.f === at.f ? h : at));
  };
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (!drawable || event.altKey || event.metaKey) return;
    if (isActivationKey(event.key)) {
      if (!hovered) return;
      event.preventDefault();
      toggleFeature(hovered.f);
      return;
    }
    if (event.key === "Escape") {
      setHover(null);
      return;
    }
    const at = hovered ? hovered.f * strip.cols + hovered.c : (focused ?? 0) * strip.cols + strip.cols - 1;
    const next = gridStep(event.key, at, strip.cols * dim, strip.cols, { ctrl: event.ctrlKey, pageRows: 8 });
    if (next === null) return;
    event.preventDefault();
    setHover({ c: next % strip.cols, f: Math.floor(next / strip.cols) });
  };

  const selectedColumn = drawable && shown && selection.step !== null ? columnOf(shown, strip, selection.step) : null;
  const countText = !session
    ? "no session"
    : drawable
      ? `${formatCount(steps)} steps × ${dim} features${downsampled ? ` · ${formatCount(strip.cols)} columns` : ""}`
      : loading
        ? "loading…"
        : `${formatCount(steps)} steps`;

  return (
    <section className="card ftl-card" aria-labelledby="ftl-title" data-testid="feature-timeline" data-key={key}>
      <header className="card-head ftl-head">
        <div className="ftl-heading">
          <h2 id="ftl-title">Per-feature timeline</h2>
          <span className="muted ftl-sub">each feature's value at every step</span>
        </div>
        <div className="ftl-controls">
          <label className="control-label" htmlFor="ftl-key">
            Key
          </label>
          <div className="select-wrap">
            <select
              id="ftl-key"
              className="select"
              data-testid="feature-timeline-key"
              value={key}
              onChange={(event) => pickFeatureKey(event.target.value as StepTensorKey)}
            >
              {FEATURE_HISTORY_KEYS.map((option) => (
                <option key={option} value={option} title={KEY_META[option].description}>
                  {option}
                  {captured && !captured.includes(option) ? " (not captured)" : ""}
                </option>
              ))}
            </select>
          </div>
          {unitScale && shown?.captured !== false && <Toggle value={mode} options={RANGE_OPTIONS} onChange={setMode} testId="feature-timeline-range" />}
          <span className="muted ftl-count" data-testid="feature-timeline-count">
            {countText}
          </span>
        </div>
      </header>

      <div className="ftl-body" ref={bodyRef}>
        {!session ? (
          <div className="ftl-empty" data-testid="feature-timeline-empty">
            Step a session to see each feature over its steps.
          </div>
        ) : shown?.captured === false ? (
          <div className="ftl-empty" data-testid="feature-timeline-missing">
            <span>
              <span className="mono">{key}</span> is not captured in this condition ({session.condition}).{" "}
              {alternative ? (
                <button type="button" className="btn btn-sm" onClick={() => pickFeatureKey(alternative)} data-testid="feature-timeline-alternative">
                  Show <span className="mono">{alternative}</span>
                </button>
              ) : (
                "Pick another key."
              )}
            </span>
          </div>
        ) : !drawable || !shown || !strip ? (
          <div className="ftl-empty" data-testid="feature-timeline-empty">
            {error ? `Could not read the history: ${error}` : loading ? "Loading…" : "Press Step: every step adds a column."}
          </div>
        ) : (
          <>
            <div className="ftl-plot" style={{ gridTemplateColumns: `${AXIS_LEFT}px ${width}px` }}>
              <div className="ftl-yaxis" style={{ height }} aria-hidden="true">
                {featureTicks(dim).map((f) => (
                  <span key={f} className="ftl-ytick mono" style={{ top: (f + 0.5) * rh }}>
                    {f}
                  </span>
                ))}
              </div>
              <div
                className="ftl-frame"
                style={{ width, height }}
                tabIndex={0}
                role="application"
                aria-roledescription="feature timeline"
                aria-label={`${key} of ${dim} features over ${steps} steps: arrow keys move between cells, Enter focuses the row's feature`}
                onPointerMove={onMove}
                onPointerLeave={() => setHover(null)}
                onBlur={() => setHover(null)}
                onKeyDown={onKeyDown}
                onClick={(event) => {
                  const at = pick(event);
                  if (at) toggleFeature(at.f);
                }}
              >
                <canvas
                  ref={canvasRef}
                  className="ftl-canvas"
                  style={{ width, height }}
                  role="img"
                  aria-label={`${key}: ${dim} features by ${steps} steps`}
                  data-testid="feature-timeline-canvas"
                  data-key={key}
                  data-steps={steps}
                  data-features={dim}
                  data-cols={strip.cols}
                  data-mode={downsampled ? "downsampled" : "exact"}
                  data-first-step={shown.steps[0]}
                  data-last-step={shown.steps.at(-1)}
                  data-sum={strip.sum.toPrecision(9)}
                  data-lo={colours.domain.lo}
                  data-hi={colours.domain.hi}
                />
                {focused !== null && focused < dim && (
                  <span className="ftl-focus" style={{ top: focused * rh, height: rh }} data-testid="feature-timeline-focus" data-feature={focused} />
                )}
                {selectedColumn !== null && <span className="ftl-selected" style={{ left: selectedColumn * cw, width: cw }} />}
                {hovered && <span className="hm-cell" style={{ left: hovered.c * cw, top: hovered.f * rh, width: cw, height: rh }} />}
                {hovered && shown && <CellTip matrix={shown} bucket={strip.buckets[hovered.c]} hover={hovered} cw={cw} rh={rh} width={width} />}
              </div>
              <span />
              <div className="ftl-xaxis" style={{ width }} aria-hidden="true">
                {stepTicks(shown.steps[0], shown.steps.at(-1)!, Math.max(2, Math.floor(width / 90))).map((step) => {
                  const c = columnOf(shown, strip, step);
                  return c === null ? null : (
                    <span key={step} className="ftl-xtick mono" style={{ left: (c + 0.5) * cw }}>
                      {formatCount(step)}
                    </span>
                  );
                })}
              </div>
            </div>
            <div className="ftl-legend">
              <ColourBar
                lut={lut}
                domain={colours.domain}
                centred={colours.map === "diverging"}
                fixed={unitScale && mode === "fixed"}
                nonfinite={strip.nonfinite}
              />
              <span className="muted">
                {downsampled ? `${formatCount(steps)} steps averaged into ${formatCount(strip.cols)} columns · ` : ""}
                {strip.held.includes(0) ? "blank: rows the trainer no longer keeps · " : ""}
                click a row to focus its feature
              </span>
            </div>
            <FeatureLine
              matrix={shown}
              strip={strip}
              feature={focused !== null && focused < dim ? focused : null}
              cw={cw}
              width={width}
              fixed={unitScale && mode === "fixed"}
              fromZero={meta.scale !== "signed"}
              hoverColumn={hovered?.c ?? null}
              onHover={(c) => setHover(c === null || focused === null ? null : { c, f: focused })}
            />
          </>
        )}
      </div>
    </section>
  );
}

/** The strip column that holds `step`, or null when the step is outside the matrix. */
function columnOf(matrix: FeatureMatrix, strip: FeatureStrip, step: number): number | null {
  const { steps } = matrix;
  let lo = 0;
  let hi = steps.length - 1;
  if (hi < 0 || step < steps[0] || step > steps[hi]) return null;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (steps[mid] < step) lo = mid + 1;
    else hi = mid;
  }
  const { buckets } = strip;
  let a = 0;
  let b = buckets.length - 1;
  while (a < b) {
    const mid = (a + b + 1) >> 1;
    if (buckets[mid].start <= lo) a = mid;
    else b = mid - 1;
  }
  return a;
}

function CellTip(props: { matrix: FeatureMatrix; bucket: Bucket; hover: Hover; cw: number; rh: number; width: number }) {
  const { matrix, bucket, hover } = props;
  const stats = cellStats(matrix, bucket, hover.f);
  const single = bucket.end - bucket.start === 1;
  const value = stats.nonfinite > 0 ? NaN : stats.mean;
  return (
    <HoverTip
      x={(hover.c + 1) * props.cw + 6}
      y={hover.f * props.rh + props.rh / 2}
      frameWidth={props.width}
      testId="feature-timeline-tooltip"
      data={{
        step: stats.firstStep,
        "last-step": stats.lastStep,
        feature: hover.f,
        value: stats.held ? String(value) : "",
        key: matrix.key,
      }}
    >
      <span className="vtip-head">
        {single ? (
          <>
            step <strong>{formatCount(stats.firstStep)}</strong>
          </>
        ) : (
          <>
            steps <strong>{formatCount(stats.firstStep)}</strong>–<strong>{formatCount(stats.lastStep)}</strong>
          </>
        )}{" "}
        · feature <strong>{hover.f}</strong>
      </span>
      {stats.held === 0 ? (
        <span className="vtip-sub">no longer kept by the trainer</span>
      ) : (
        <>
          <span className={Number.isFinite(value) ? "vtip-value mono" : "vtip-value mono bad"}>
            {single ? "" : "mean "}
            {formatExact(value)}
          </span>
          {!single && stats.finite > 1 && (
            <span className="vtip-sub mono">
              {formatValue(stats.min)} … {formatValue(stats.max)} over {stats.finite} steps
            </span>
          )}
          {stats.nonfinite > 0 && <span className="vtip-sub">{stats.nonfinite} NaN/Inf</span>}
        </>
      )}
      <span className="vtip-note">{props.matrix.key} · click to focus feature {hover.f}</span>
    </HoverTip>
  );
}

/**
 * The focused feature's row of the strip as a line (the column means, with each column's
 * min–max as a band when steps are averaged), aligned with the strip's columns.
 */
function FeatureLine(props: {
  matrix: FeatureMatrix;
  strip: FeatureStrip;
  feature: number | null;
  cw: number;
  width: number;
  fixed: boolean;
  /** The axis starts at 0 (magnitudes, unit shares). */
  fromZero: boolean;
  hoverColumn: number | null;
  onHover: (column: number | null) => void;
}) {
  const { matrix, strip, feature, cw, width } = props;
  const line = useMemo(() => {
    if (feature === null) return null;
    const means: number[] = [];
    const lows: number[] = [];
    const highs: number[] = [];
    let min = Infinity;
    let max = -Infinity;
    for (let c = 0; c < strip.cols; c++) {
      const stats = cellStats(matrix, strip.buckets[c], feature);
      means.push(stats.mean);
      lows.push(stats.min);
      highs.push(stats.max);
      if (stats.finite) {
        min = Math.min(min, stats.min);
        max = Math.max(max, stats.max);
      }
    }
    return { means, lows, highs, min, max };
  }, [matrix, strip, feature]);

  if (feature === null || !line) {
    return (
      <p className="ftl-line-hint muted" data-testid="feature-timeline-line-hint">
        Click a feature's row to draw its line over the steps.
      </p>
    );
  }
  const finite = Number.isFinite(line.min);
  // Magnitudes and shares start at 0; a signed key spans its own range.
  let lo = props.fixed ? 0 : finite ? (props.fromZero ? Math.min(0, line.min) : line.min) : 0;
  let hi = props.fixed ? 1 : finite ? line.max : 1;
  if (!(hi > lo)) {
    hi = lo + (Math.abs(lo) || 1) * 0.5;
    lo = lo - (hi - lo);
  }
  const pad = 4;
  const y = (v: number) => pad + (1 - (v - lo) / (hi - lo)) * (LINE_HEIGHT - 2 * pad);
  const x = (c: number) => AXIS_LEFT + (c + 0.5) * cw;
  let path = "";
  let band = "";
  let open = false;
  for (let c = 0; c < strip.cols; c++) {
    const v = line.means[c];
    if (Number.isFinite(v)) {
      path += `${open ? "L" : "M"}${x(c).toFixed(1)},${y(v).toFixed(1)}`;
      open = true;
    } else open = false;
  }
  if (strip.cols < matrix.steps.length) {
    for (let c = 0; c < strip.cols; c++) {
      if (!Number.isFinite(line.lows[c])) continue;
      const top = y(line.highs[c]);
      band += `M${(AXIS_LEFT + c * cw).toFixed(1)},${top.toFixed(1)}h${cw}V${y(line.lows[c]).toFixed(1)}h${-cw}Z`;
    }
  }
  const svgWidth = AXIS_LEFT + width;
  const hc = props.hoverColumn;

  return (
    <div className="ftl-line">
      <div className="ftl-line-head">
        <span>
          feature <strong className="mono">{feature}</strong> · <span className="mono">{matrix.key}</span> over the steps
        </span>
        <button type="button" className="btn btn-sm" onClick={() => toggleFeature(feature)} data-testid="feature-timeline-unfocus">
          Clear focus
        </button>
      </div>
      <svg
        className="ftl-line-svg"
        width={svgWidth}
        height={LINE_HEIGHT}
        data-testid="feature-timeline-line"
        data-feature={feature}
        data-key={matrix.key}
        role="img"
        aria-label={`${matrix.key} of feature ${feature} over ${matrix.steps.length} steps`}
        onPointerMove={(event) => {
          const box = event.currentTarget.getBoundingClientRect();
          const c = Math.floor((event.clientX - box.left - AXIS_LEFT) / cw);
          props.onHover(c >= 0 && c < strip.cols ? c : null);
        }}
        onPointerLeave={() => props.onHover(null)}
      >
        <line className="chart-grid" x1={AXIS_LEFT} x2={svgWidth} y1={y(hi)} y2={y(hi)} />
        <line className="chart-grid" x1={AXIS_LEFT} x2={svgWidth} y1={y(lo)} y2={y(lo)} />
        <text className="chart-tick ftl-line-label" x={AXIS_LEFT + 4} y={y(hi) + 2} dominantBaseline="hanging">
          {formatValue(hi)}
        </text>
        <text className="chart-tick ftl-line-label" x={AXIS_LEFT + 4} y={y(lo) - 3}>
          {formatValue(lo)}
        </text>
        {band && <path className="ftl-line-band" d={band} />}
        <path className="ftl-line-path" d={path} />
        {hc !== null && hc < strip.cols && (
          <>
            <line className="ftl-line-guide" x1={x(hc)} x2={x(hc)} y1={0} y2={LINE_HEIGHT} />
            {Number.isFinite(line.means[hc]) && <circle className="ftl-line-dot" cx={x(hc)} cy={y(line.means[hc])} r={3} />}
          </>
        )}
      </svg>
    </div>
  );
}
