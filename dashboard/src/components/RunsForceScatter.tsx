import { useStore } from "@nanostores/react";
import { type FocusEvent, type KeyboardEvent, useMemo, useRef, useState } from "react";

import { formatCount, formatPercent, formatValue } from "../lib/format";
import { arrowDirection, isActivationKey, nearestInDirection } from "../lib/keyboard-nav";
import { type ForcePoint, forceSummary } from "../lib/runs/forces";
import { QUANTITY_NAMES as FORCE_NAMES, UPDATE_COSINE_LABEL } from "../lib/quantities";
import { type LinearScale, linearScale, logScale, minPositive } from "../lib/runs/scale";
import { lutFor, lutGradient, rgb, viridis } from "../lib/views/colour";
import { featureColor } from "../lib/runs/trajectory";
import { $run } from "../lib/run-store";
import { $featureDetail, $runForces, $runForcesNote, $runFrame, $watched, selectFeature } from "../lib/runs-store";
import { type Axis, linearAxis, logAxis } from "../lib/ticks";
import { useElementWidth } from "../lib/use-element-width";
import { AGREE_ABOVE, countForceRelations } from "../lib/views/forces";
import { Segmented } from "./ChartControls";
import { AxisOffset } from "./StepChart";

const HEIGHT = 318;
const MARGIN = { top: 16, right: 18, bottom: 42, left: 64 };

/**
 * This step's forces per feature: gradient magnitude (x) against SOM update magnitude (y),
 * coloured by win rate. Hover names a feature; a click opens its detail. From the keyboard the
 * points are one tab stop: the arrow keys move to the nearest point that way (nearestInDirection),
 * Home/End to the first/last feature, Enter or Space opens the detail.
 */
export default function RunsForceScatter() {
  const run = useStore($run, { ssr: () => null });
  const forces = useStore($runForces, { ssr: "initial" });
  const note = useStore($runForcesNote, { ssr: "initial" });
  const detail = useStore($featureDetail, { ssr: "initial" });
  const frame = useStore($runFrame, { ssr: "initial" });
  const watched = useStore($watched, { ssr: "initial" });
  const [boxRef, width] = useElementWidth<HTMLDivElement>(560);
  const [hover, setHover] = useState<number | null>(null);
  const [axes, setAxes] = useState<"linear" | "log">("linear");
  // The point in the tab order (the last one focused) and the one with a keyboard focus ring.
  const [active, setActive] = useState<number | null>(null);
  const svgRef = useRef<SVGSVGElement>(null);

  const own = forces && run && forces.runId === run.run_id ? forces : null;
  const points = own?.points ?? null;

  const chart = useMemo(() => {
    if (!points?.length) return null;
    const plotWidth = Math.max(60, width - MARGIN.left - MARGIN.right);
    const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
    const finite = points.filter((p) => Number.isFinite(p.grad) && Number.isFinite(p.som));
    const gradMax = Math.max(1e-12, ...finite.map((p) => p.grad));
    const somMax = Math.max(1e-12, ...finite.map((p) => p.som));
    const winMax = Math.max(1e-6, ...points.filter((p) => Number.isFinite(p.win)).map((p) => p.win));
    let x: LinearScale;
    let y: LinearScale;
    let xAxis: Axis;
    let yAxis: Axis;
    const xRange: [number, number] = [MARGIN.left, MARGIN.left + plotWidth];
    const yRange: [number, number] = [MARGIN.top + plotHeight, MARGIN.top];
    if (axes === "log") {
      // Zeros (a dead feature's gradient) sit on the axis start.
      const gradMin = minPositive(finite.map((p) => p.grad)) ?? gradMax / 10;
      const somMin = minPositive(finite.map((p) => p.som)) ?? somMax / 10;
      x = logScale([gradMin / 1.6, gradMax * 1.6], xRange);
      y = logScale([somMin / 1.6, somMax * 1.6], yRange);
      xAxis = logAxis(gradMin / 1.6, gradMax * 1.6, Math.max(3, Math.floor(plotWidth / 70)));
      yAxis = logAxis(somMin / 1.6, somMax * 1.6);
    } else {
      x = linearScale([0, gradMax * 1.06], xRange);
      y = linearScale([0, somMax * 1.08], yRange);
      xAxis = linearAxis(0, gradMax * 1.06, Math.max(2, Math.floor(plotWidth / 90)));
      yAxis = linearAxis(0, somMax * 1.08, 5);
    }
    return { plotWidth, plotHeight, x, y, xAxis, yAxis, winMax, finite };
  }, [points, width, axes]);

  // Whether each feature's optimizer and SOM updates point the same way: the cosine of the rows of
  // opt_delta and som_delta, which only a fully captured step holds (a Step, or the paused step).
  const agreement = useMemo(() => {
    if (!own || !frame || frame.runId !== own.runId || frame.frame.step !== own.step) return null;
    const a = frame.frame.tensors.opt_delta;
    const b = frame.frame.tensors.som_delta;
    return a && b ? countForceRelations(a.data, b.data, a.shape[0], a.shape[1]) : null;
  }, [own, frame]);

  const summary = useMemo(() => (points ? forceSummary(points) : null), [points]);
  const finiteFeatures = useMemo(() => chart?.finite.map((p) => p.feature) ?? [], [chart]);
  const positions = useMemo(() => chart?.finite.map((p) => ({ x: chart.x(p.grad), y: chart.y(p.som) })) ?? [], [chart]);
  const hovered = hover !== null && points ? points[hover] : null;
  const selected = detail.feature;

  // Draw the selected and watched points last, so they sit on top.
  const order = useMemo(() => {
    if (!chart) return [];
    const rank = (p: ForcePoint) => (p.feature === selected ? 2 : watched.includes(p.feature) ? 1 : 0);
    return [...chart.finite].sort((a, b) => rank(a) - rank(b));
  }, [chart, selected, watched]);

  const drawn = (f: number | null): f is number => f !== null && finiteFeatures.includes(f);
  const tabbable = drawn(active) ? active : drawn(selected) ? selected : (finiteFeatures[0] ?? null);
  const featureOf = (target: EventTarget): number | null => {
    const value = target instanceof Element ? target.getAttribute("data-feature") : null;
    return value === null ? null : Number(value);
  };
  const onKeyDown = (event: KeyboardEvent<SVGSVGElement>) => {
    const feature = featureOf(event.target);
    if (feature === null || event.altKey || event.ctrlKey || event.metaKey) return;
    if (isActivationKey(event.key)) {
      event.preventDefault();
      void selectFeature(feature);
      return;
    }
    const from = finiteFeatures.indexOf(feature);
    const direction = arrowDirection(event.key);
    let to: number | null = null;
    if (direction) to = nearestInDirection(positions, from, direction);
    else if (event.key === "Home") to = 0;
    else if (event.key === "End") to = finiteFeatures.length - 1;
    if (to === null || to < 0) return;
    event.preventDefault();
    const next = finiteFeatures[to];
    setActive(next);
    svgRef.current?.querySelector<SVGElement>(`[data-testid="runs-force-point"][data-feature="${next}"]`)?.focus();
  };
  // A focused point names itself in the tooltip, as under the pointer.
  const onFocus = (event: FocusEvent<SVGSVGElement>) => {
    const feature = featureOf(event.target);
    if (feature === null) return;
    setActive(feature);
    setHover(feature);
  };
  const onBlur = (event: FocusEvent<SVGSVGElement>) => {
    const feature = featureOf(event.target);
    if (feature !== null) setHover((h) => (h === feature ? null : h));
  };

  return (
    <section className="card runs-forces-card" aria-labelledby="runs-forces-title">
      <header className="card-head">
        <h2 id="runs-forces-title">
          Forces per feature
          {own && <span className="card-head-step">step {formatCount(own.step)}</span>}
        </h2>
        <div className="runs-head-tools">
          {chart && (
            <span className="runs-legend-ramp" title="Colour: win rate of the feature in this batch">
              <span className="muted">win rate</span>
              <span className="mono">0</span>
              <span className="ramp" style={{ background: lutGradient(lutFor("viridis")) }} />
              <span className="mono">{formatPercent(Number(chart.winMax.toPrecision(2)))}</span>
            </span>
          )}
          <Segmented
            label="Axes"
            options={[
              { value: "linear", label: "linear", title: "Linear axes from 0" },
              { value: "log", label: "log", title: "Log axes: spread the features crowded near 0 (zeros sit on the axis)" },
            ]}
            value={axes}
            onChange={setAxes}
            testIdPrefix="runs-scatter"
          />
        </div>
      </header>

      <div
        className="runs-scatter-body"
        ref={boxRef}
        data-testid="runs-force-scatter"
        data-step={own?.step ?? ""}
        data-points={points?.length ?? 0}
      >
        {!chart ? (
          <div className="runs-chart-empty" style={{ height: HEIGHT }}>
            <div className="runs-empty">
              <p className="empty-title">{note ? "No forces to show" : run ? "Waiting for a step…" : "No run yet"}</p>
              <p className="empty-text">
                {note ?? "Each feature's gradient and SOM pull for the current step, once the run has one."}
              </p>
            </div>
          </div>
        ) : (
          <>
            <svg
              className="runs-scatter-svg"
              width={chart.plotWidth + MARGIN.left + MARGIN.right}
              height={HEIGHT}
              ref={svgRef}
              role="group"
              aria-label={`Gradient against SOM magnitude for ${points?.length} features at step ${own?.step}: arrow keys move between features, Enter opens one`}
              onKeyDown={onKeyDown}
              onFocus={onFocus}
              onBlur={onBlur}
            >
              {chart.yAxis.ticks.map((tick, i) => (
                <g key={`y${tick}`}>
                  <line className="chart-grid" x1={MARGIN.left} x2={MARGIN.left + chart.plotWidth} y1={chart.y(tick)} y2={chart.y(tick)} />
                  <text className="chart-tick" x={MARGIN.left - 8} y={chart.y(tick)} textAnchor="end" dominantBaseline="middle" data-testid="runs-scatter-ytick">
                    {chart.yAxis.labels[i]}
                  </text>
                </g>
              ))}
              {chart.xAxis.ticks.map((tick, i) => (
                <g key={`x${tick}`}>
                  <line className="chart-grid" x1={chart.x(tick)} x2={chart.x(tick)} y1={MARGIN.top} y2={MARGIN.top + chart.plotHeight} />
                  <text className="chart-tick" x={chart.x(tick)} y={MARGIN.top + chart.plotHeight + 16} textAnchor="middle" data-testid="runs-scatter-xtick">
                    {chart.xAxis.labels[i]}
                  </text>
                </g>
              ))}
              <AxisOffset offset={chart.yAxis.offset} x={MARGIN.left - 8} y={MARGIN.top - 5} anchor="end" className="chart-tick" />
              <AxisOffset offset={chart.xAxis.offset} x={MARGIN.left} y={HEIGHT - 4} className="chart-tick" />
              <line className="chart-axis" x1={MARGIN.left} x2={MARGIN.left + chart.plotWidth} y1={MARGIN.top + chart.plotHeight} y2={MARGIN.top + chart.plotHeight} />
              <line className="chart-axis" x1={MARGIN.left} x2={MARGIN.left} y1={MARGIN.top} y2={MARGIN.top + chart.plotHeight} />
              <text className="chart-axis-label" x={MARGIN.left + chart.plotWidth} y={HEIGHT - 4} textAnchor="end">
                <title>{FORCE_NAMES.grad_magnitude.title}</title>
                {FORCE_NAMES.grad_magnitude.label} →
              </text>
              <text className="chart-axis-label" transform={`translate(14 ${MARGIN.top}) rotate(-90)`} textAnchor="end">
                <title>{FORCE_NAMES.som_magnitude.title}</title>
                {FORCE_NAMES.som_magnitude.label} →
              </text>
              {order.map((p) => {
                const isSelected = p.feature === selected;
                const isWatched = watched.includes(p.feature);
                const fill = rgb(viridis(Number.isFinite(p.win) ? p.win / chart.winMax : 0));
                return (
                  <circle
                    key={p.feature}
                    className={`scatter-point${isSelected ? " selected" : ""}${isWatched ? " watched" : ""}${hover === p.feature ? " hovered" : ""}`}
                    cx={chart.x(p.grad)}
                    cy={chart.y(p.som)}
                    r={isSelected ? 8 : hover === p.feature ? 7.5 : 6}
                    fill={fill}
                    stroke={isWatched && !isSelected ? featureColor(watched, p.feature) : undefined}
                    data-testid="runs-force-point"
                    data-feature={p.feature}
                    role="button"
                    tabIndex={p.feature === tabbable ? 0 : -1}
                    aria-pressed={isSelected}
                    aria-label={`feature ${p.feature}: ${FORCE_NAMES.grad_magnitude.label} ${formatValue(p.grad)}, ${FORCE_NAMES.som_magnitude.label} ${formatValue(p.som)}`}
                    onPointerEnter={() => setHover(p.feature)}
                    onPointerLeave={() => setHover((h) => (h === p.feature ? null : h))}
                    onClick={() => void selectFeature(p.feature)}
                  />
                );
              })}
            </svg>
            {hovered && Number.isFinite(hovered.grad) && Number.isFinite(hovered.som) && (
              <div
                className={chart.x(hovered.grad) > chart.plotWidth - 150 ? "chart-tooltip flip" : "chart-tooltip"}
                style={{ left: chart.x(hovered.grad), top: chart.y(hovered.som) }}
                data-testid="runs-force-tooltip"
              >
                <span className="tooltip-title">Feature {hovered.feature}</span>
                <span className="tooltip-row">
                  <span className="tooltip-label">{FORCE_NAMES.grad_magnitude.label}</span>
                  <strong className="mono">{formatValue(hovered.grad)}</strong>
                </span>
                <span className="tooltip-row">
                  <span className="tooltip-label">{FORCE_NAMES.som_magnitude.label}</span>
                  <strong className="mono">{formatValue(hovered.som)}</strong>
                </span>
                <span className="tooltip-row">
                  <span className="tooltip-label">win rate</span>
                  <strong className="mono">{Number.isFinite(hovered.win) ? formatPercent(Number(hovered.win.toPrecision(3))) : "—"}</strong>
                </span>
                <span className="tooltip-note">click or Enter for its weight and updates</span>
              </div>
            )}
          </>
        )}
      </div>
      {summary && (
        <footer className="card-foot runs-forces-foot">
          <span>
            {summary.total} features · mean {FORCE_NAMES.grad_magnitude.label} <strong className="mono">{formatValue(summary.meanGrad)}</strong> · mean{" "}
            {FORCE_NAMES.som_magnitude.label} <strong className="mono">{formatValue(summary.meanSom)}</strong>
          </span>
          <span>
            <span className="swatch-dot" style={{ background: rgb(viridis(0)) }} /> {summary.dead} dead (&lt; 1%) ·{" "}
            <span className="swatch-dot" style={{ background: rgb(viridis(1)) }} /> {summary.winners} winning (&gt; 5%)
          </span>
          <span
            className="runs-force-counts"
            data-testid="runs-force-counts"
            data-agree={agreement?.agree ?? ""}
            data-fight={agreement?.fight ?? ""}
            data-orthogonal={agreement?.orthogonal ?? ""}
            title={`${UPDATE_COSINE_LABEL} per feature, over the rows of opt_delta and som_delta: agree above ${AGREE_ABOVE}, fight below −${AGREE_ABOVE}`}
          >
            {agreement ? (
              <>
                {UPDATE_COSINE_LABEL}: <strong className="agree">{agreement.agree}</strong> agree ·{" "}
                <strong className="fight">{agreement.fight}</strong> fight · <strong>{agreement.orthogonal}</strong> nearly orthogonal (|cos| ≤{" "}
                {AGREE_ABOVE})
                {agreement.undefined > 0 && <> · {agreement.undefined} undefined</>}
              </>
            ) : (
              <span className="muted">
                agree/fight counts need this step's full updates: pause and Step (a running run streams only the magnitudes)
              </span>
            )}
          </span>
        </footer>
      )}
    </section>
  );
}
