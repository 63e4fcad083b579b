import { type ReactNode, useId, useMemo } from "react";

import { nearestIndex, nearestPoints } from "../lib/chart";
import { downsampleIndices, linePathAt } from "../lib/downsample";
import { formatCount, formatValue } from "../lib/format";
import { padLogDomain, positiveExtent } from "../lib/runs/line";
import { extent, linearScale, logScale, padDomain, unionExtent } from "../lib/runs/scale";
import { linearAxis, logAxis } from "../lib/ticks";
import { type StepWindow, visibleRange } from "../lib/timeline";
import { useElementWidth } from "../lib/use-element-width";
import { useStepZoom } from "../lib/use-step-zoom";
import type { StepEvent } from "../lib/steering-types";
import { type AxisClasses, StepChartFrame, StepEventMarkers, usePointerX } from "./StepChart";

/** One line: x (steps, increasing) and y values, the first `length` of them. */
export interface ChartLine {
  id: string;
  label: string;
  color: string;
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
  length: number;
  dashed?: boolean;
  /** Drawn thin and pale behind the others (the raw series under its smoothed one). */
  faint?: boolean;
  /** data-testid of the line's path (it also carries data-points = length). */
  testId?: string;
  /** Extra data-* for the line, e.g. {"data-feature": "3"}. */
  data?: Record<string, string>;
}

const FRAME_CLASSES = { root: "runs-chart", empty: "runs-chart-empty", svg: "runs-chart-svg" };
const AXIS_CLASSES: AxisClasses = { grid: "chart-grid", tick: "chart-tick", axis: "chart-axis" };

const MARGIN = { top: 14, right: 20, bottom: 28, left: 62 };
/** Room for the axis titles, when there are any. */
const TITLE_LEFT = 14;
const TITLE_BOTTOM = 14;

/**
 * A step-indexed line chart in SVG: any number of lines, each decimated to the pixels it covers
 * (so a run of a million steps draws as fast as one of a hundred), a hover rule with every line's
 * value at the nearest step, and readable ticks (lib/ticks.ts). A line with more points than pixels
 * is drawn one pixel wide (`dense`): it is an envelope then, and a hairline costs the browser a
 * fraction of a wide stroke to raster at every update of a live run. Lines lift the pen at NaN (and,
 * on a log axis, at values ≤ 0). Zooms like the inspector's loss timeline (lib/use-step-zoom.ts):
 * drag across it or Ctrl+wheel, double-click or Reset shows every step again; the y axis fits the
 * steps shown.
 */
export default function RunsLineChart(props: {
  lines: ChartLine[];
  height: number;
  testId: string;
  ariaLabel: string;
  empty: ReactNode;
  /** Magnitudes never go below this (axis padding stops there). */
  yFloor?: number;
  /** A fixed y range instead of the data's. */
  yDomain?: [number, number];
  /** A log10 y axis (values ≤ 0 are left out); linear when no value is positive. */
  log?: boolean;
  xTitle?: string;
  yTitle?: string;
  /** Extra attributes of the chart root, e.g. data-points. */
  data?: Record<string, string>;
  /** Draw a dot on every point when there are few. */
  dots?: boolean;
  /** A change (a new run) forgets the zoom. */
  resetKey?: unknown;
  /** Step events (live edits, breakpoints) drawn as markers. */
  events?: readonly StepEvent[];
}) {
  const { lines, height } = props;
  const [boxRef, width] = useElementWidth<HTMLDivElement>(720);
  const [hoverX, pointerHandlers] = usePointerX();
  const clipId = useId();
  const left = MARGIN.left + (props.yTitle ? TITLE_LEFT : 0);
  const bottom = MARGIN.bottom + (props.xTitle ? TITLE_BOTTOM : 0);
  const plotWidth = Math.max(40, width - left - MARGIN.right);

  // Every step of every line; the zoom window lives inside it.
  const full = useMemo<StepWindow | null>(() => {
    const xExtent = unionExtent(lines.map((l) => (l.length ? [l.xs[0], l.xs[l.length - 1]] : null)));
    if (!xExtent) return null;
    return xExtent[0] === xExtent[1] ? { lo: xExtent[0] - 0.5, hi: xExtent[1] + 0.5 } : { lo: xExtent[0], hi: xExtent[1] };
  }, [lines]);
  const zoom = useStepZoom(full, { left, width: plotWidth }, props.resetKey);
  const shown = zoom.shown;

  const chart = useMemo(() => {
    if (!shown) return null;
    const plotHeight = height - MARGIN.top - bottom;
    const x = linearScale([shown.lo, shown.hi], [left, left + plotWidth]);
    // The indices of each line inside the window, and one more on each side so it runs on to the
    // border (the clip path cuts it there).
    const ranges = lines.map((line) => {
      const [start, end] = visibleRange(line.xs, shown, line.length);
      return { start, end, from: Math.max(0, start - 1), to: Math.min(line.length, end + 1) };
    });
    const positive = props.log ? unionExtent(lines.map((l, i) => positiveExtent(l.ys, ranges[i].start, ranges[i].end))) : null;
    const log = positive !== null;
    const yRange: [number, number] = [MARGIN.top + plotHeight, MARGIN.top];
    let y;
    let yAxis;
    let domain: [number, number];
    if (log) {
      domain = padLogDomain(positive);
      y = logScale(domain, yRange, { gaps: true });
      yAxis = logAxis(domain[0], domain[1], Math.max(3, Math.floor(plotHeight / 30)));
    } else {
      const yExtent = unionExtent(lines.map((l, i) => extent(sliceOf(l.ys, ranges[i].start, ranges[i].end))));
      domain = props.yDomain ?? padDomain(yExtent ?? [0, 1], 0.08, props.yFloor);
      y = linearScale(domain, yRange);
      yAxis = linearAxis(domain[0], domain[1], Math.max(2, Math.floor(plotHeight / 44)));
    }
    const columns = Math.max(16, Math.round(plotWidth / 2));
    const drawn = lines.map((line, i) => {
      const { from, to } = ranges[i];
      const indices = downsampleIndices(line.xs, line.ys, from, to, columns, shown.lo, shown.hi);
      return { line, indices, path: linePathAt(indices, line.xs, line.ys, x, y), inside: ranges[i].end - ranges[i].start };
    });
    const tickLo = Math.ceil(shown.lo);
    const tickHi = Math.floor(shown.hi);
    const xTicks = linearAxis(tickLo, tickHi, Math.max(2, Math.floor(plotWidth / 100)), { integer: true }).ticks;
    return { plotHeight, x, y, log, drawn, yAxis, xTicks: xTicks.length ? xTicks : [tickLo] };
  }, [lines, plotWidth, left, bottom, height, shown, props.yDomain, props.yFloor, props.log]);

  const hover = useMemo(() => {
    if (!chart || hoverX === null || zoom.drag) return null;
    const step = chart.x.invert(hoverX);
    // Each line's value at its point nearest to the pointer's step.
    const nearest = nearestPoints(lines, step, (line, at) => nearestIndex(line.xs, at, line.length));
    if (!nearest) return null;
    return { step: nearest.step, rows: nearest.rows.filter((r) => r.step === nearest.step) };
  }, [chart, hoverX, lines, zoom.drag]);

  const onPointerMove = pointerHandlers.onPointerMove;
  const windowText = shown
    ? zoom.zoomed
      ? `steps ${formatCount(Math.ceil(shown.lo))}–${formatCount(Math.floor(shown.hi))} · double-click to show all`
      : "drag across the chart to zoom · Ctrl+wheel zooms too"
    : "";

  return (
    <StepChartFrame
      classes={FRAME_CLASSES}
      boxRef={boxRef}
      testId={props.testId}
      data={{
        ...props.data,
        "data-lo": shown ? String(shown.lo) : "",
        "data-hi": shown ? String(shown.hi) : "",
        "data-zoomed": String(zoom.zoomed),
        "data-scale": chart?.log ? "log" : "linear",
      }}
      width={chart ? plotWidth + left + MARGIN.right : 0}
      height={height}
      ariaLabel={props.ariaLabel}
      empty={props.empty}
      svgRef={zoom.svgRef}
      pointerHandlers={{
        ...zoom.handlers,
        onPointerMove: (event) => {
          onPointerMove(event);
          zoom.handlers.onPointerMove(event);
        },
        onPointerLeave: pointerHandlers.onPointerLeave,
      }}
      header={
        chart && (
          <div className="chart-zoombar" data-zoomed={zoom.zoomed}>
            <span className="muted" data-testid={`${props.testId}-window`}>
              {windowText}
            </span>
            {zoom.zoomed && (
              <button type="button" className="btn btn-sm" data-testid={`${props.testId}-reset`} onClick={zoom.reset}>
                Reset zoom
              </button>
            )}
          </div>
        )
      }
      axes={
        chart && {
          left,
          top: MARGIN.top,
          plotWidth,
          plotHeight: chart.plotHeight,
          x: chart.x,
          y: chart.y,
          yAxis: chart.yAxis,
          xTicks: chart.xTicks,
          xLabelY: MARGIN.top + chart.plotHeight + 20,
          classes: AXIS_CLASSES,
          xTitle: props.xTitle,
          yTitle: props.yTitle,
        }
      }
      overlay={
        chart &&
        hover && (
          <div
            className={chart.x(hover.step) > plotWidth - 160 ? "chart-tooltip flip" : "chart-tooltip"}
            style={{ left: chart.x(hover.step), top: MARGIN.top + 26 + chart.plotHeight / 2 }}
            data-testid={`${props.testId}-tooltip`}
          >
            <span className="tooltip-title">Step {formatCount(hover.step)}</span>
            {hover.rows.map((row) => (
              <span key={row.line.id} className="tooltip-row">
                <span className="tooltip-swatch" style={{ background: row.line.color, opacity: row.line.faint ? 0.45 : 1 }} />
                <span className="tooltip-label">{row.line.label}</span>
                <strong className="mono">{formatValue(row.value)}</strong>
              </span>
            ))}
          </div>
        )
      }
    >
      {chart && (
        <>
          <defs>
            <clipPath id={clipId}>
              <rect x={left} y={MARGIN.top - 6} width={plotWidth} height={chart.plotHeight + 12} />
            </clipPath>
          </defs>
          <g clipPath={`url(#${clipId})`}>
            {chart.drawn.map(({ line, path, indices, inside }) => (
              <g key={line.id}>
                <path
                  className={`chart-line${line.dashed ? " dashed" : ""}${line.faint ? " faint" : ""}${inside > plotWidth ? " dense" : ""}`}
                  d={path}
                  stroke={line.color}
                  data-testid={line.testId}
                  data-points={line.length}
                  data-shown={inside}
                  {...line.data}
                />
                {props.dots &&
                  indices.length <= 60 &&
                  indices.map((i) => {
                    const cy = Number.isFinite(line.ys[i]) ? chart.y(line.ys[i]) : Number.NaN;
                    return Number.isFinite(cy) ? (
                      <circle key={i} className="chart-dot" cx={chart.x(line.xs[i])} cy={cy} r={2.6} fill={line.color} />
                    ) : null;
                  })}
              </g>
            ))}
          </g>
          {props.events && shown && (
            <StepEventMarkers
              events={props.events}
              x={chart.x}
              top={MARGIN.top}
              height={chart.plotHeight}
              lo={shown.lo}
              hi={shown.hi}
              testId={`${props.testId}-event`}
            />
          )}
          {hover && (
            <g className="chart-hover" aria-hidden="true">
              <line x1={chart.x(hover.step)} x2={chart.x(hover.step)} y1={MARGIN.top} y2={MARGIN.top + chart.plotHeight} />
              {hover.rows.map((row) => {
                const cy = Number.isFinite(row.value) ? chart.y(row.value) : Number.NaN;
                return Number.isFinite(cy) ? <circle key={row.line.id} cx={chart.x(row.step)} cy={cy} r={row.line.faint ? 3 : 4} fill={row.line.color} /> : null;
              })}
            </g>
          )}
          {zoom.drag && (
            <rect
              className="timeline-drag"
              data-testid={`${props.testId}-drag`}
              x={Math.max(left, Math.min(zoom.drag.from, zoom.drag.to))}
              y={MARGIN.top}
              width={Math.min(Math.abs(zoom.drag.to - zoom.drag.from), plotWidth)}
              height={chart.plotHeight}
            />
          )}
        </>
      )}
    </StepChartFrame>
  );
}

/** A view of values[start, end) without copying a typed array. */
function sliceOf(values: ArrayLike<number>, start: number, end: number): ArrayLike<number> {
  if (ArrayBuffer.isView(values)) return (values as unknown as Float64Array).subarray(start, end);
  return Array.prototype.slice.call(values, start, end) as number[];
}

