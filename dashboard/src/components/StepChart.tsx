// The frame of a step-indexed SVG chart: its box (or the empty state), the SVG with the axes, and
// the pointer tracking the hover reads. Each chart draws its own lines and tooltip inside.
import { type PointerEvent, type ReactNode, type RefObject, useState } from "react";

import { formatCount } from "../lib/format";

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
  yTicks: readonly number[];
  xTicks: readonly number[];
  formatY: (tick: number) => string;
  /** The baseline of the step labels. */
  xLabelY: number;
  classes: AxisClasses;
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
  pointerHandlers: ReturnType<typeof usePointerX>[1];
  children?: ReactNode;
  overlay?: ReactNode;
}) {
  const { classes, height } = props;
  return (
    <div className={classes.root} ref={props.boxRef} data-testid={props.testId} {...props.data}>
      {!props.axes ? (
        <div className={classes.empty} style={{ height }}>
          {props.empty}
        </div>
      ) : (
        <>
          <svg className={classes.svg} width={props.width} height={height} role="img" aria-label={props.ariaLabel} {...props.pointerHandlers}>
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
  const { left, top, plotWidth, plotHeight, x, y, classes } = props;
  return (
    <>
      {props.yTicks.map((tick) => (
        <g key={`y${tick}`}>
          <line className={classes.grid} x1={left} x2={left + plotWidth} y1={y(tick)} y2={y(tick)} />
          <text className={classes.tick} x={left - 8} y={y(tick)} textAnchor="end" dominantBaseline="middle">
            {props.formatY(tick)}
          </text>
        </g>
      ))}
      <line className={classes.axis} x1={left} x2={left + plotWidth} y1={top + plotHeight} y2={top + plotHeight} />
      {props.xTicks.map((tick) => (
        <text key={`x${tick}`} className={classes.tick} x={x(tick)} y={props.xLabelY} textAnchor="middle">
          {formatCount(tick)}
        </text>
      ))}
    </>
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
