import { type ReactNode, useMemo } from "react";

import { nearestIndex, nearestPoints } from "../lib/chart";
import { type SeriesLine, finiteExtent } from "../lib/codebook/series";
import { decimate } from "../lib/downsample";
import { linearScale, logScale, padDomain } from "../lib/codebook/scale";
import { linePath } from "../lib/downsample";
import { formatCount, formatValue } from "../lib/format";
import { type TickFormat, linearAxis, logAxis } from "../lib/ticks";
import { useElementWidth } from "../lib/use-element-width";
import { type AxisClasses, StepChartFrame, usePointerX } from "./StepChart";

/** A vertical mark on the step axis (e.g. dead-code replacements). */
export interface StepMark {
  step: number;
  label: string;
}

const FRAME_CLASSES = { root: "cb-chart", empty: "cb-chart-empty", svg: "cb-chart-svg" };
const AXIS_CLASSES: AxisClasses = { grid: "chart-grid", tick: "cb-tick", axis: "chart-axis" };

const MARGIN = { top: 12, right: 18, bottom: 26, left: 58 };

/**
 * A step-indexed SVG line chart: lines decimated to the pixels they cover, a log or linear y axis,
 * dashed lines, dotted sparse lines, marks along the bottom, and a hover rule listing every line's
 * value at the nearest step.
 */
export default function CodebookLineChart(props: {
  lines: SeriesLine[];
  height: number;
  log?: boolean;
  /** A fixed y range (linear axes only). */
  yDomain?: [number, number];
  /** Format of hover values (default: 4 significant digits). */
  formatY?: (value: number) => string;
  /** How the y tick labels read (e.g. percentages); see lib/ticks.ts. */
  tickFormat?: TickFormat;
  marks?: StepMark[];
  markLabel?: string;
  testId: string;
  ariaLabel: string;
  empty: ReactNode;
}) {
  const { lines, height, log = false, marks = [] } = props;
  const [boxRef, width] = useElementWidth<HTMLDivElement>(720);
  const [hoverX, pointerHandlers] = usePointerX();

  const chart = useMemo(() => {
    const plotWidth = Math.max(40, width - MARGIN.left - MARGIN.right);
    const plotHeight = height - MARGIN.top - MARGIN.bottom - (marks.length ? 8 : 0);
    const xs = lines.flatMap((l) => (l.xs.length ? [l.xs[0], l.xs[l.xs.length - 1]] : []));
    const xExtent = finiteExtent(xs);
    const yExtent = props.yDomain ?? finiteExtent(lines.flatMap((l) => l.ys), log);
    if (!xExtent || !yExtent) return null;
    const [x0, x1] = xExtent[0] === xExtent[1] ? [xExtent[0] - 0.5, xExtent[1] + 0.5] : xExtent;
    const x = linearScale([x0, x1], [MARGIN.left, MARGIN.left + plotWidth]);
    const domain = props.yDomain ?? padDomain(yExtent, 0.06, log);
    const yRange: [number, number] = [MARGIN.top + plotHeight, MARGIN.top];
    const y = log ? logScale(domain, yRange) : linearScale(domain, yRange);
    const buckets = Math.max(16, Math.round(plotWidth / 2));
    const drawn = lines.map((line) => {
      const points = decimate(line.xs, line.ys, line.xs.length, buckets);
      return { line, points, path: linePath(points.x, points.y, x, y) };
    });
    const yAxis = log
      ? logAxis(domain[0], domain[1], Math.max(3, Math.floor(plotHeight / 28)), props.tickFormat)
      : linearAxis(domain[0], domain[1], Math.max(2, Math.floor(plotHeight / 44)), props.tickFormat);
    const xTicks = linearAxis(xExtent[0], xExtent[1], Math.max(2, Math.floor(plotWidth / 110)), { integer: true }).ticks;
    return {
      plotWidth,
      plotHeight,
      x,
      y,
      drawn,
      yAxis,
      xTicks: xTicks.length ? xTicks : [xExtent[0]],
    };
  }, [lines, width, height, log, props.yDomain, props.tickFormat, marks.length]);

  const hover = useMemo(() => {
    if (!chart || hoverX === null) return null;
    const step = chart.x.invert(hoverX);
    const nearest = nearestPoints(lines, step, (line, at) => nearestIndex(line.xs, at));
    if (!nearest) return null;
    // Sparse lines (validation) join in when their nearest point is close to the pointer's step.
    const tolerance = Math.max(1, chart.x.invert(MARGIN.left + 14) - chart.x.invert(MARGIN.left));
    const shown = nearest.rows.filter((r) => r.step === nearest.step || (r.line.dots && Math.abs(r.step - nearest.step) <= tolerance));
    const markRows = marks.filter((m) => Math.abs(m.step - nearest.step) <= tolerance);
    return { step: nearest.step, rows: shown, marks: markRows };
  }, [chart, hoverX, lines, marks]);

  const fmt = props.formatY ?? formatValue;
  const markY = chart ? MARGIN.top + chart.plotHeight + 1 : 0;

  return (
    <StepChartFrame
      classes={FRAME_CLASSES}
      boxRef={boxRef}
      testId={props.testId}
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
          yAxis: chart.yAxis,
          xTicks: chart.xTicks,
          xLabelY: height - 7,
          classes: AXIS_CLASSES,
        }
      }
      overlay={
        chart && hover && (
        <div
          className={chart.x(hover.step) > chart.plotWidth - 150 ? "cb-tooltip flip" : "cb-tooltip"}
          style={{ left: chart.x(hover.step), top: MARGIN.top + chart.plotHeight / 2 }}
        >
          <span className="cb-tooltip-title">Step {formatCount(hover.step)}</span>
          {hover.rows.map((row) => (
            <span key={row.line.id} className="cb-tooltip-row">
              <span className={row.line.dashed ? "cb-swatch dashed" : "cb-swatch"} style={{ color: row.line.color }} />
              <span className="cb-tooltip-label">
                {row.line.label}
                {row.step !== hover.step ? ` (step ${formatCount(row.step)})` : ""}
              </span>
              <strong className="mono">{fmt(row.value)}</strong>
            </span>
          ))}
          {hover.marks.map((mark, i) => (
            <span key={`m${mark.step}-${i}`} className="cb-tooltip-note">
              {props.markLabel ?? "▲"} step {formatCount(mark.step)}: {mark.label}
            </span>
          ))}
        </div>
        )
      }
    >
      {chart && (
        <>
          {marks.map((mark, i) => (
            <g
              key={`m${mark.step}-${i}`}
              className={hover?.marks.includes(mark) ? "cb-mark near" : "cb-mark"}
              data-testid={`${props.testId}-mark`}
              data-step={mark.step}
            >
              <line x1={chart.x(mark.step)} x2={chart.x(mark.step)} y1={MARGIN.top} y2={markY + 7} />
              <path d={`M${chart.x(mark.step) - 3.5},${markY + 8}h7l-3.5,-6z`} />
            </g>
          ))}
          {chart.drawn.map(({ line, path, points }) => (
            <g key={line.id}>
              <path
                className={line.dashed ? "cb-line dashed" : "cb-line"}
                d={path}
                stroke={line.color}
                data-testid={`${props.testId}-line-${line.id}`}
                data-points={line.xs.length}
              />
              {line.dots &&
                points.x.length <= 80 &&
                points.x.map((px, i) =>
                  Number.isFinite(chart.y(points.y[i])) ? (
                    <circle key={px} className="chart-dot" cx={chart.x(px)} cy={chart.y(points.y[i])} r={2.8} fill={line.color} />
                  ) : null,
                )}
            </g>
          ))}
          {hover && (
            <g className="cb-hover" aria-hidden="true">
              <line x1={chart.x(hover.step)} x2={chart.x(hover.step)} y1={MARGIN.top} y2={MARGIN.top + chart.plotHeight} />
              {hover.rows.map((row) =>
                Number.isFinite(chart.y(row.value)) ? (
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
