// The frame of a step-indexed SVG chart: its box (or the empty state), the SVG with the axes, and
// the pointer tracking the hover reads. Each chart draws its own lines and tooltip inside.
import { type DOMAttributes, type PointerEvent, type ReactNode, type Ref, type RefObject, useState } from "react";

import { formatCount } from "../lib/format";
import type { StepEvent } from "../lib/steering-types";
import { describeEvent, eventMarkers } from "../lib/step-events";
import type { Axis } from "../lib/ticks";
import "../styles/steering.css";

/** The class names a chart styles its axes with (each page has its own). */
export interface AxisClasses {
  grid: string;
  tick: string;
  axis: string;
}

/** Where the axes go and how they read (see `StepAxes`). */
export interface StepAxesProps {
  left: number;
  top: number;
  plotWidth: number;
  plotHeight: number;
  x: (value: number) => number;
  y: (value: number) => number;
  /** The y ticks and their labels (lib/ticks.ts). */
  yAxis: Axis;
  xTicks: readonly number[];
  /** The baseline of the step labels. */
  xLabelY: number;
  classes: AxisClasses;
  /** Axis titles: under the step labels (right-aligned) and up the left edge. */
  xTitle?: string;
  yTitle?: string;
}

/**
 * A chart's box: the empty state while `axes` is null, else an SVG of `width` × `height` with the
 * axes under `children`, and `overlay` (a tooltip) after it. The pointer handlers go on the SVG.
 */
export function StepChartFrame(props: {
  classes: { root: string; empty: string; svg: string };
  boxRef: RefObject<HTMLDivElement | null>;
  testId: string;
  /** Extra attributes of the box, e.g. data-points. */
  data?: Record<string, string>;
  width: number;
  height: number;
  ariaLabel: string;
  empty: ReactNode;
  axes: StepAxesProps | null;
  /** Pointer, mouse and other handlers of the SVG. */
  pointerHandlers: DOMAttributes<SVGSVGElement>;
  svgRef?: Ref<SVGSVGElement>;
  /** Extra attributes of the SVG, e.g. data-lo. */
  svgData?: Record<string, string>;
  /** Above the SVG inside the box (a zoom bar). */
  header?: ReactNode;
  children?: ReactNode;
  overlay?: ReactNode;
}) {
  const { classes, height, boxRef, svgRef } = props;
  return (
    <div className={classes.root} ref={boxRef} data-testid={props.testId} {...props.data}>
      {!props.axes ? (
        <div className={classes.empty} style={{ height }}>
          {props.empty}
        </div>
      ) : (
        <>
          {props.header}
          <svg
            ref={svgRef}
            className={classes.svg}
            width={props.width}
            height={height}
            role="img"
            aria-label={props.ariaLabel}
            {...props.svgData}
            {...props.pointerHandlers}
          >
            <StepAxes {...props.axes} />
            {props.children}
          </svg>
          {props.overlay}
        </>
      )}
    </div>
  );
}

/**
 * The axes of a step-indexed SVG chart: a grid line and a label per y tick, the bottom axis, and
 * the step labels under it. `x` and `y` map values to pixels; the plot starts at (left, top).
 */
export function StepAxes(props: StepAxesProps) {
  const { left, top, plotWidth, plotHeight, x, y, classes, yAxis } = props;
  return (
    <>
      {yAxis.ticks.map((tick, i) => (
        <g key={`y${tick}`}>
          <line className={classes.grid} x1={left} x2={left + plotWidth} y1={y(tick)} y2={y(tick)} />
          <text className={classes.tick} x={left - 8} y={y(tick)} textAnchor="end" dominantBaseline="middle">
            {yAxis.labels[i]}
          </text>
        </g>
      ))}
      <AxisOffset offset={yAxis.offset} x={2} y={Math.max(9, top - 3)} className={classes.tick} />
      <line className={classes.axis} x1={left} x2={left + plotWidth} y1={top + plotHeight} y2={top + plotHeight} />
      {props.xTicks.map((tick) => (
        <text key={`x${tick}`} className={classes.tick} x={x(tick)} y={props.xLabelY} textAnchor="middle">
          {formatCount(tick)}
        </text>
      ))}
      {props.xTitle && (
        <text className="chart-axis-label" x={left + plotWidth} y={props.xLabelY + 14} textAnchor="end" data-testid="chart-x-title">
          {props.xTitle} →
        </text>
      )}
      {props.yTitle && (
        <text
          className="chart-axis-label"
          transform={`translate(12 ${top + plotHeight / 2}) rotate(-90)`}
          textAnchor="middle"
          data-testid="chart-y-title"
        >
          {props.yTitle}
        </text>
      )}
    </>
  );
}

/**
 * The value an axis's tick labels are offsets from (lib/ticks.ts), printed once in its corner:
 * "123.456 +" over labels "−1e−9 0 +1e−9". Nothing when the labels are whole values.
 */
export function AxisOffset(props: { offset: string | null; x: number; y: number; className: string; anchor?: "start" | "end" }) {
  if (props.offset === null) return null;
  return (
    <text className={`${props.className} axis-offset`} x={props.x} y={props.y} textAnchor={props.anchor ?? "start"} data-testid="chart-axis-offset">
      <title>{`Each tick reads ${props.offset} + its label`}</title>
      {props.offset} +
    </text>
  );
}

/** The pointer's x within an SVG chart (null when outside), and the handlers that track it. */
export function usePointerX(): [
  number | null,
  { onPointerMove: (event: PointerEvent<SVGSVGElement>) => void; onPointerLeave: () => void },
] {
  const [pointerX, setPointerX] = useState<number | null>(null);
  return [
    pointerX,
    {
      onPointerMove: (event) => {
        const box = event.currentTarget.getBoundingClientRect();
        setPointerX(event.clientX - box.left);
      },
      onPointerLeave: () => setPointerX(null),
    },
  ];
}

/**
 * The step events (live edits, breakpoints) inside `lo..hi` as dashed vertical lines with a flag
 * at the top, one per step (the title lists every event of that step): `x` maps a step to pixels.
 */
export function StepEventMarkers(props: {
  events: readonly StepEvent[];
  x: (step: number) => number;
  top: number;
  height: number;
  lo: number;
  hi: number;
  testId: string;
}) {
  return (
    <>
      {eventMarkers(props.events, props.lo, props.hi).map((marker) => {
        const px = props.x(marker.step);
        return (
          <g
            key={`e${marker.step}`}
            className={`step-event-marker step-event-${marker.kind}`}
            data-testid={props.testId}
            data-step={marker.step}
            data-names={marker.events.map((e) => e.name).join(",")}
          >
            <title>{`step ${marker.step}: ${marker.events.map(describeEvent).join("; ")}`}</title>
            <line x1={px} x2={px} y1={props.top} y2={props.top + props.height} />
            <path d={`M${px} ${props.top} l7 3.5 l-7 3.5 z`} />
          </g>
        );
      })}
    </>
  );
}
