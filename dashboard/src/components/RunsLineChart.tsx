import { type ReactNode, useMemo } from "react";

import { nearestIndex, nearestPoints, niceTicks } from "../lib/chart";
import { formatCount, formatValue } from "../lib/format";
import { decimate } from "../lib/downsample";
import { extent, linePath, linearScale, padDomain, unionExtent } from "../lib/runs/scale";
import { useElementWidth } from "../lib/use-element-width";
import { type AxisClasses, StepChartFrame, usePointerX } from "./StepChart";

/** One line: x (steps, increasing) and y values, the first `length` of them. */
export interface ChartLine {
  id: string;
  label: string;
  color: string;
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
  length: number;
  dashed?: boolean;
  /** data-testid of the line's path (it also carries data-points = length). */
  testId?: string;
  /** Extra data-* for the line, e.g. {"data-feature": "3"}. */
  data?: Record<string, string>;
}

const FRAME_CLASSES = { root: "runs-chart", empty: "runs-chart-empty", svg: "runs-chart-svg" };
const AXIS_CLASSES: AxisClasses = { grid: "chart-grid", tick: "chart-tick", axis: "chart-axis" };

const MARGIN = { top: 14, right: 20, bottom: 28, left: 62 };

/**
 * A step-indexed line chart in SVG: any number of lines, each decimated to the pixels it covers
 * (so a run of a million steps draws as fast as one of a hundred), a hover rule with every line's
 * value at the nearest step, and "nice" ticks. Lines lift the pen at NaN.
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
  /** Extra attributes of the chart root, e.g. data-points. */
  data?: Record<string, string>;
  /** Draw a dot on every point when there are few. */
  dots?: boolean;
}) {
  const { lines, height } = props;
  const [boxRef, width] = useElementWidth<HTMLDivElement>(720);
  const [hoverX, pointerHandlers] = usePointerX();

  const chart = useMemo(() => {
    const plotWidth = Math.max(40, width - MARGIN.left - MARGIN.right);
    const plotHeight = height - MARGIN.top - MARGIN.bottom;
    const xExtent = unionExtent(lines.map((l) => (l.length ? [l.xs[0], l.xs[l.length - 1]] : null)));
    const yExtent = props.yDomain ?? unionExtent(lines.map((l) => extent(l.ys, l.length)));
    if (!xExtent) return null;
    const [x0, x1] = xExtent[0] === xExtent[1] ? [xExtent[0] - 0.5, xExtent[1] + 0.5] : xExtent;
    const x = linearScale([x0, x1], [MARGIN.left, MARGIN.left + plotWidth]);
    const [y0, y1] = props.yDomain ?? padDomain(yExtent ?? [0, 1], 0.08, props.yFloor);
    const y = linearScale([y0, y1], [MARGIN.top + plotHeight, MARGIN.top]);
    const buckets = Math.max(16, Math.round(plotWidth / 2));
    const drawn = lines.map((line) => {
      const points = decimate(line.xs, line.ys, line.length, buckets);
      return { line, points, path: linePath(points.x, points.y, x, y) };
    });
    const yTicks = niceTicks(y0, y1, Math.max(2, Math.floor(plotHeight / 44))).filter((t) => t >= y0 && t <= y1);
    const xTicks = niceTicks(Math.max(x0, xExtent[0]), Math.min(x1, xExtent[1]), Math.max(2, Math.floor(plotWidth / 100))).filter(
      (t) => Number.isInteger(t) && t >= xExtent[0] && t <= xExtent[1],
    );
    return { plotWidth, plotHeight, x, y, drawn, yTicks, xTicks: xTicks.length ? xTicks : [xExtent[0]], yStep: yTicks.length > 1 ? yTicks[1] - yTicks[0] : 1 };
  }, [lines, width, height, props.yDomain, props.yFloor]);

  const hover = useMemo(() => {
    if (!chart || hoverX === null) return null;
    const step = chart.x.invert(hoverX);
    // Each line's value at its point nearest to the pointer's step.
    const nearest = nearestPoints(lines, step, (line, at) => nearestIndex(line.xs, at, line.length));
    if (!nearest) return null;
    return { step: nearest.step, rows: nearest.rows.filter((r) => r.step === nearest.step) };
  }, [chart, hoverX, lines]);

  return (
    <StepChartFrame
      classes={FRAME_CLASSES}
      boxRef={boxRef}
      testId={props.testId}
      data={props.data}
      width={chart ? chart.plotWidth + MARGIN.left + MARGIN.right : 0}
      height={height}
      ariaLabel={props.ariaLabel}
      empty={props.empty}
      pointerHandlers={pointerHandlers}
      axes={
        chart && {
          left: MARGIN.left,
          top: MARGIN.top,
          plotWidth: chart.plotWidth,
          plotHeight: chart.plotHeight,
          x: chart.x,
          y: chart.y,
          yTicks: chart.yTicks,
          xTicks: chart.xTicks,
          formatY: (tick) => formatTick(tick, chart.yStep),
          xLabelY: height - 8,
          classes: AXIS_CLASSES,
        }
      }
      overlay={
        chart &&
        hover && (
          <div
            className={chart.x(hover.step) > chart.plotWidth - 160 ? "chart-tooltip flip" : "chart-tooltip"}
            style={{ left: chart.x(hover.step), top: MARGIN.top + chart.plotHeight / 2 }}
            data-testid={`${props.testId}-tooltip`}
          >
            <span className="tooltip-title">Step {formatCount(hover.step)}</span>
            {hover.rows.map((row) => (
              <span key={row.line.id} className="tooltip-row">
                <span className="tooltip-swatch" style={{ background: row.line.color }} />
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
          {chart.drawn.map(({ line, path, points }) => (
            <g key={line.id}>
              <path
                className={line.dashed ? "chart-line dashed" : "chart-line"}
                d={path}
                stroke={line.color}
                data-testid={line.testId}
                data-points={line.length}
                {...line.data}
              />
              {props.dots && points.x.length <= 60 &&
                points.x.map((px, i) =>
                  Number.isFinite(points.y[i]) ? (
                    <circle key={px} className="chart-dot" cx={chart.x(px)} cy={chart.y(points.y[i])} r={2.6} fill={line.color} />
                  ) : null,
                )}
            </g>
          ))}
          {hover && (
            <g className="chart-hover" aria-hidden="true">
              <line x1={chart.x(hover.step)} x2={chart.x(hover.step)} y1={MARGIN.top} y2={MARGIN.top + chart.plotHeight} />
              {hover.rows.map((row) =>
                Number.isFinite(row.value) ? (
                  <circle key={row.line.id} cx={chart.x(row.step)} cy={chart.y(row.value)} r={4} fill={row.line.color} />
                ) : null,
              )}
            </g>
          )}
        </>
      )}
    </StepChartFrame>
  );
}

/** A tick value with as many decimals as the tick spacing needs. */
function formatTick(value: number, step: number): string {
  const abs = Math.abs(step);
  if (abs >= 1e5 || (abs < 1e-4 && abs > 0)) return value.toExponential(1);
  const decimals = Math.min(6, Math.max(0, -Math.floor(Math.log10(abs || 1))));
  return value.toFixed(decimals);
}
