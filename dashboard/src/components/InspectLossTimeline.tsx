import { useStore } from "@nanostores/react";
import { type MouseEvent, useId, useMemo, useState } from "react";

import { nearestIndex } from "../lib/chart";
import { downsampleIndices, isFiniteValue, linePathAt } from "../lib/downsample";
import { formatCount, formatValue } from "../lib/format";
import { StepTensorKey } from "../lib/generated/tensor-keys";
import {
  $inspectFailures,
  $inspectHistory,
  $inspectSelection,
  $inspectSession,
  isRetained,
  loadStep,
} from "../lib/inspect-store";
import type { FailedStep, FirstNonFinite } from "../lib/inspect-types";
import { type Axis, linearAxis } from "../lib/ticks";
import { failureMarkers, fullWindow, nonFiniteSpans, type StepWindow, visibleRange } from "../lib/timeline";
import { useElementWidth } from "../lib/use-element-width";
import { useStepZoom } from "../lib/use-step-zoom";
import BranchOverlay from "./BranchOverlay";
import { AxisOffset, StepEventMarkers } from "./StepChart";
import InspectStepSlider from "./InspectStepSlider";

const HEIGHT = 188;
const MARGIN = { top: 16, right: 22, bottom: 28, left: 66 };
/** Above this many steps in the window the points are not drawn one by one (the line and clicks still work). */
const MAX_DRAWN_POINTS = 600;

/**
 * Loss at every step so far; click a point (or anywhere above it) to load that step. Drag across
 * it to zoom into those steps (Ctrl+wheel zooms around the pointer, a sideways wheel pans);
 * double-click or Reset shows every step again. A long session is drawn downsampled to the pixel
 * columns it covers, a window with fewer steps than pixels exactly. Failed step attempts and the
 * first non-finite value of the session have their own markers.
 */
export default function InspectLossTimeline() {
  const session = useStore($inspectSession, { ssr: () => null });
  const history = useStore($inspectHistory, { ssr: "initial" });
  const selection = useStore($inspectSelection, { ssr: "initial" });
  const failures = useStore($inspectFailures, { ssr: () => [] });
  const [bodyRef, width] = useElementWidth<HTMLDivElement>(900);
  const [hover, setHover] = useState<number | null>(null);
  const clipId = useId();

  const own = session !== null && history.sessionId === session.session_id;
  const steps = own ? history.steps : EMPTY;
  const losses = (own ? (history.columns[StepTensorKey.LOSS] ?? EMPTY) : EMPTY) as (number | null)[];
  const failed = session ? failures : EMPTY_FAILURES;

  // Every step (and failed attempt) so far; a zoom window lives inside it. A session that starts
  // over forgets the zoom.
  const full = useMemo(() => extentOf(steps, failed), [steps, failed]);
  const zoom = useStepZoom(full, { left: MARGIN.left, width: Math.max(40, width - MARGIN.left - MARGIN.right) }, session?.session_id ?? null);
  const { shown, drag, svgRef, handlers } = zoom;
  const chart = useMemo(
    () => (full && shown ? layout(steps, losses, width, shown) : null),
    [steps, losses, width, shown, full],
  );
  const markers = useMemo(() => (chart && shown ? failureMarkers(failed, shown, chart.x) : []), [chart, failed, shown]);

  const [start, end] = chart ? chart.range : [0, 0];
  // With too many steps for a dot each, the NaN/Inf steps become strips along the top edge.
  const spans = useMemo(
    () => (chart && end - start > MAX_DRAWN_POINTS ? nonFiniteSpans(steps, losses, start, end, chart.x) : []),
    [chart, steps, losses, start, end],
  );
  const indexAt = (px: number): number => {
    if (!chart || end <= start) return -1;
    const i = nearestIndex(steps, chart.stepAt(px));
    return Math.min(end - 1, Math.max(start, i));
  };
  const pointerX = (event: MouseEvent<SVGSVGElement>) => event.clientX - event.currentTarget.getBoundingClientRect().left;

  const hovered = hover !== null && hover >= start && hover < end ? hover : null;
  const selectedStep = selection.step;
  const isZoomed = zoom.zoomed;
  const first = session?.first_nonfinite ?? null;

  return (
    <section className="card timeline-card" aria-labelledby="timeline-title">
      <header className="card-head">
        <h2 id="timeline-title">Loss timeline</h2>
        <div className="chart-legend">
          <span>
            <span className="legend-line" aria-hidden="true" /> loss
          </span>
          <span>
            <span className="legend-band" aria-hidden="true" /> full tensors held
          </span>
          <span>
            <span className="legend-dot legend-dot-evicted" aria-hidden="true" /> scalars only
          </span>
          {own && (history.nonfinite[StepTensorKey.LOSS] ?? 0) > 0 && (
            <span>
              <span className="legend-dot legend-dot-nonfinite" aria-hidden="true" /> NaN/Inf loss
            </span>
          )}
          {failed.length > 0 && (
            <span>
              <span className="legend-failed" aria-hidden="true">×</span> failed attempt
            </span>
          )}
          {first && (
            <span>
              <span className="legend-nonfinite" aria-hidden="true" /> first NaN/Inf
            </span>
          )}
          <span className="muted" data-testid="inspect-timeline-count">
            {formatCount(steps.length)} {steps.length === 1 ? "step" : "steps"}
          </span>
        </div>
      </header>

      <div className="timeline-body" ref={bodyRef}>
        {!chart || !shown ? (
          <div className="timeline-empty" data-testid="inspect-timeline-empty">
            {session ? "Every step you run shows up here." : "No session."}
          </div>
        ) : (
          <>
            <div className="timeline-zoombar" data-testid="inspect-timeline-zoom" data-zoomed={isZoomed}>
              <span className="muted" data-testid="inspect-timeline-window">
                {isZoomed
                  ? `steps ${formatCount(Math.ceil(shown.lo))}–${formatCount(Math.floor(shown.hi))} · ${formatCount(end - start)} of ${formatCount(steps.length)}`
                  : "drag across the chart to zoom · Ctrl+wheel zooms too"}
                {chart.downsampled && " · drawn at one column per pixel"}
              </span>
              {isZoomed && (
                <button type="button" className="btn btn-sm" data-testid="inspect-timeline-reset" onClick={zoom.reset}>
                  Reset zoom
                </button>
              )}
            </div>
            <div className="timeline-plot">
            <svg
              ref={svgRef}
              className="timeline-svg"
              data-testid="inspect-timeline"
              data-lo={shown.lo}
              data-hi={shown.hi}
              data-drawn={chart.drawn}
              data-mode={chart.downsampled ? "downsampled" : "exact"}
              width={chart.width}
              height={HEIGHT}
              role="img"
              aria-label={`Loss over ${steps.length} steps`}
              {...handlers}
              onPointerMove={(event) => {
                const i = indexAt(pointerX(event));
                setHover(i < 0 ? null : i);
                handlers.onPointerMove(event);
              }}
              onClick={(event) => {
                // Not after a drag (that zoomed), nor on the second click of a double-click (that resets).
                if (zoom.swallowClick(event)) return;
                const i = indexAt(pointerX(event));
                if (i >= 0) void loadStep(steps[i]);
              }}
              onPointerLeave={() => setHover(null)}
            >
              <defs>
                <clipPath id={clipId}>
                  <rect x={MARGIN.left} y={0} width={chart.plotWidth} height={HEIGHT} />
                </clipPath>
              </defs>
              {session?.retained && (
                <rect
                  className="timeline-band"
                  clipPath={`url(#${clipId})`}
                  x={chart.x(session.retained[0]) - chart.half}
                  y={MARGIN.top}
                  width={chart.x(session.retained[1]) - chart.x(session.retained[0]) + 2 * chart.half}
                  height={chart.plotHeight}
                  rx={3}
                />
              )}
              {chart.yAxis.ticks.map((tick, i) => (
                <g key={`y${tick}`}>
                  <line className="chart-grid" x1={MARGIN.left} x2={chart.width - MARGIN.right} y1={chart.y(tick)} y2={chart.y(tick)} />
                  <text className="chart-tick" x={MARGIN.left - 10} y={chart.y(tick)} textAnchor="end" dominantBaseline="middle">
                    {chart.yAxis.labels[i]}
                  </text>
                </g>
              ))}
              <AxisOffset offset={chart.yAxis.offset} x={4} y={10} className="chart-tick" />
              {chart.xTicks.map((tick) => (
                <text key={`x${tick}`} className="chart-tick" x={chart.x(tick)} y={HEIGHT - 8} textAnchor="middle">
                  {formatCount(tick)}
                </text>
              ))}
              <BranchOverlay target="inspect" x={chart.x} y={chart.y} lo={shown.lo} hi={shown.hi} clipPath={`url(#${clipId})`} />
              <path className="timeline-line" data-testid="inspect-timeline-line" d={chart.path} clipPath={`url(#${clipId})`} />
              {first && first.step >= shown.lo && first.step <= shown.hi && <NonFiniteMarker first={first} x={chart.x(first.step)} />}
              {session?.events && (
                <StepEventMarkers events={session.events} x={chart.x} top={MARGIN.top} height={chart.plotHeight} lo={shown.lo} hi={shown.hi} testId="inspect-timeline-event" />
              )}
              {markers.map((marker) => (
                <g
                  key={`f${marker.first}`}
                  className="timeline-failure"
                  data-testid="inspect-timeline-failure"
                  data-step={marker.first}
                  data-last={marker.last}
                  data-count={marker.attempts.length}
                >
                  <title>{marker.title}</title>
                  <line x1={marker.x} x2={marker.x} y1={MARGIN.top} y2={MARGIN.top + chart.plotHeight} />
                  <circle cx={marker.x} cy={MARGIN.top + chart.plotHeight - 7} r={6.5} />
                  <path d={cross(marker.x, MARGIN.top + chart.plotHeight - 7, 3)} />
                </g>
              ))}
              {selectedStep !== null && selectedStep >= shown.lo && selectedStep <= shown.hi && historyHas(steps, selectedStep) && (
                <line
                  className="timeline-selected"
                  x1={chart.x(selectedStep)}
                  x2={chart.x(selectedStep)}
                  y1={MARGIN.top}
                  y2={MARGIN.top + chart.plotHeight}
                />
              )}
              {hovered !== null && (
                <line
                  className="timeline-hover"
                  x1={chart.x(steps[hovered])}
                  x2={chart.x(steps[hovered])}
                  y1={MARGIN.top}
                  y2={MARGIN.top + chart.plotHeight}
                />
              )}
              {spans.map((span) => (
                <rect
                  key={`n${span.first}`}
                  className="timeline-nonfinite-span"
                  data-testid="inspect-timeline-nan-strip"
                  data-first={span.first}
                  data-last={span.last}
                  clipPath={`url(#${clipId})`}
                  x={span.x0 - chart.half}
                  y={MARGIN.top - 3}
                  width={Math.max(span.x1 - span.x0 + 2 * chart.half, 2)}
                  height={6}
                  rx={3}
                >
                  <title>{span.first === span.last ? `step ${span.first}: loss is not a finite number` : `steps ${span.first}–${span.last}: loss is not a finite number`}</title>
                </rect>
              ))}
              {end - start <= MAX_DRAWN_POINTS &&
                steps.slice(start, end).map((step, k) => {
                  const i = start + k;
                  const value = losses[i];
                  const finite = isFiniteValue(value);
                  const classes = [
                    "timeline-point",
                    isRetained(session, step) ? "held" : "evicted",
                    finite ? "" : "nonfinite",
                    step === selectedStep ? "selected" : "",
                    i === hovered ? "hovered" : "",
                  ];
                  return (
                    <circle
                      key={step}
                      className={classes.filter(Boolean).join(" ")}
                      data-testid="inspect-timeline-point"
                      data-step={step}
                      cx={chart.x(step)}
                      cy={finite ? chart.y(value) : MARGIN.top}
                      r={step === selectedStep ? chart.radius + 1.5 : chart.radius}
                    />
                  );
                })}
              {drag && (
                <rect
                  className="timeline-drag"
                  data-testid="inspect-timeline-drag"
                  x={Math.max(MARGIN.left, Math.min(drag.from, drag.to))}
                  y={MARGIN.top}
                  width={Math.min(Math.abs(drag.to - drag.from), chart.plotWidth)}
                  height={chart.plotHeight}
                />
              )}
            </svg>
            {hovered !== null && !drag && (
              <Tooltip
                step={steps[hovered]}
                loss={losses[hovered]}
                held={isRetained(session, steps[hovered])}
                failed={failed.filter((attempt) => attempt.step === steps[hovered])}
                left={chart.x(steps[hovered])}
                top={(() => {
                  const value = losses[hovered];
                  return isFiniteValue(value) ? chart.y(value) : MARGIN.top;
                })()}
                flip={chart.x(steps[hovered]) > chart.width - 190}
              />
            )}
            </div>
          </>
        )}
      </div>

      <footer className="timeline-foot">
        <InspectStepSlider />
      </footer>
    </section>
  );
}

const EMPTY: number[] = [];
const EMPTY_FAILURES: FailedStep[] = [];

/** The first and last step of the history and the failed attempts (null when both are empty). */
function extentOf(steps: readonly number[], failed: readonly FailedStep[]): StepWindow | null {
  let first = steps.length ? steps[0] : Infinity;
  let last = steps.length ? steps[steps.length - 1] : -Infinity;
  for (const attempt of failed) {
    first = Math.min(first, attempt.step);
    last = Math.max(last, attempt.step);
  }
  return first <= last ? fullWindow(first, last) : null;
}

function historyHas(steps: readonly number[], step: number): boolean {
  const i = nearestIndex(steps, step);
  return i >= 0 && steps[i] === step;
}

function cross(cx: number, cy: number, r: number): string {
  return `M${cx - r},${cy - r}L${cx + r},${cy + r}M${cx + r},${cy - r}L${cx - r},${cy + r}`;
}

/** A downward triangle on the top edge at the step where NaN/Inf first appeared. */
function NonFiniteMarker({ first, x }: { first: FirstNonFinite; x: number }) {
  const top = MARGIN.top;
  return (
    <g className="timeline-nonfinite" data-testid="inspect-timeline-nonfinite" data-step={first.step}>
      <title>{`NaN/Inf first at step ${first.step} in ${first.key} (${first.count} values)`}</title>
      <line x1={x} x2={x} y1={top} y2={HEIGHT - MARGIN.bottom} />
      <path d={`M${x - 6},${top - 9}L${x + 6},${top - 9}L${x},${top + 1}Z`} />
    </g>
  );
}

function Tooltip(props: {
  step: number;
  loss: number | null;
  held: boolean;
  failed: FailedStep[];
  left: number;
  top: number;
  flip: boolean;
}) {
  return (
    <div
      className={props.flip ? "chart-tooltip flip" : "chart-tooltip"}
      style={{ left: props.left, top: props.top }}
      data-testid="inspect-timeline-tooltip"
    >
      <span className="tooltip-title">Step {formatCount(props.step)}</span>
      <span>
        loss <strong className="mono">{formatValue(props.loss)}</strong>
      </span>
      {props.failed.map((attempt, i) => (
        <span key={i} className="tooltip-note failed">
          an earlier attempt failed: {attempt.error}: {attempt.message}
        </span>
      ))}
      <span className={props.held ? "tooltip-note" : "tooltip-note evicted"}>
        {props.held ? "full tensors held · click to load" : "full tensors evicted · scalars only"}
      </span>
    </div>
  );
}

interface Chart {
  width: number;
  plotWidth: number;
  plotHeight: number;
  /** [start, end): the indices of the steps inside the window. */
  range: [number, number];
  /** Half the distance between two steps (at least 2 px), for bands around a step. */
  half: number;
  radius: number;
  x: (step: number) => number;
  y: (value: number) => number;
  stepAt: (px: number) => number;
  xTicks: number[];
  yAxis: Axis;
  path: string;
  /** Points the line goes through, and whether the window has more steps than pixel columns. */
  drawn: number;
  downsampled: boolean;
}

function layout(steps: readonly number[], losses: readonly (number | null)[], width: number, shown: StepWindow): Chart {
  const plotWidth = Math.max(40, width - MARGIN.left - MARGIN.right);
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const { lo, hi } = shown;
  const x = (step: number) => MARGIN.left + ((step - lo) / (hi - lo)) * plotWidth;
  const stepAt = (px: number) => lo + ((px - MARGIN.left) / plotWidth) * (hi - lo);
  const [start, end] = visibleRange(steps, shown);

  let min = Infinity;
  let max = -Infinity;
  for (let i = start; i < end; i++) {
    const value = losses[i];
    if (isFiniteValue(value)) {
      if (value < min) min = value;
      if (value > max) max = value;
    }
  }
  if (min === Infinity) {
    min = 0;
    max = 1;
  }
  const pad = max > min ? (max - min) * 0.12 : Math.max(Math.abs(max) * 0.05, 1e-3);
  const yLo = min - pad;
  const yHi = max + pad;
  const y = (value: number) => MARGIN.top + (1 - (value - yLo) / (yHi - yLo)) * plotHeight;

  // The window's points, one pixel column at a time when there are more of them than columns, and
  // the step just outside each edge so the line runs on to the border (the clip path cuts it).
  const columns = Math.round(plotWidth);
  const inside = downsampleIndices(steps, losses, start, end, columns, lo, hi);
  const indices = [...(start > 0 ? [start - 1] : []), ...inside, ...(end < steps.length ? [end] : [])];
  const path = linePathAt(indices, steps, losses, x, y);

  const stepWidth = plotWidth / (hi - lo);
  const yAxis = linearAxis(yLo, yHi, 5);
  const tickLo = Math.ceil(lo);
  const tickHi = Math.floor(hi);
  const xTicks = linearAxis(tickLo, tickHi, Math.max(2, Math.floor(plotWidth / 90)), { integer: true }).ticks;
  return {
    width: plotWidth + MARGIN.left + MARGIN.right,
    plotWidth,
    plotHeight,
    range: [start, end],
    half: Math.max(2, stepWidth / 2),
    radius: stepWidth >= 14 ? 4 : stepWidth >= 6 ? 3 : 2,
    x,
    y,
    stepAt,
    xTicks: xTicks.length ? xTicks : [tickLo],
    yAxis,
    path,
    drawn: inside.length,
    downsampled: end - start > columns,
  };
}
