import { useStore } from "@nanostores/react";
import { useMemo, useState, type MouseEvent } from "react";

import { nearestIndex, niceTicks } from "../lib/chart";
import { formatCount, formatValue } from "../lib/format";
import { StepTensorKey } from "../lib/generated/tensor-keys";
import {
  $inspectHistory,
  $inspectSelection,
  $inspectSession,
  isRetained,
  loadStep,
} from "../lib/inspect-store";
import { useElementWidth } from "../lib/use-element-width";
import InspectStepSlider from "./InspectStepSlider";

const HEIGHT = 188;
const MARGIN = { top: 16, right: 22, bottom: 28, left: 66 };
/** Above this many steps the points are not drawn one by one (the line and clicks still work). */
const MAX_DRAWN_POINTS = 600;

/** Loss at every step so far; click a point (or anywhere above it) to load that step. */
export default function InspectLossTimeline() {
  const session = useStore($inspectSession, { ssr: () => null });
  const history = useStore($inspectHistory, { ssr: "initial" });
  const selection = useStore($inspectSelection, { ssr: "initial" });
  const [bodyRef, width] = useElementWidth<HTMLDivElement>(900);
  const [hover, setHover] = useState<number | null>(null);

  const steps = session && history.sessionId === session.session_id ? history.steps : [];
  const losses = (history.columns[StepTensorKey.LOSS] ?? []) as (number | null)[];
  const chart = useMemo(() => layout(steps, losses, width), [steps, losses, width]);

  const indexAt = (event: MouseEvent<SVGSVGElement>): number => {
    if (!chart) return -1;
    const box = event.currentTarget.getBoundingClientRect();
    return nearestIndex(steps, chart.stepAt(event.clientX - box.left));
  };

  const hovered = hover !== null && hover < steps.length ? hover : null;
  const selectedStep = selection.step;

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
          <span className="muted" data-testid="inspect-timeline-count">
            {formatCount(steps.length)} {steps.length === 1 ? "step" : "steps"}
          </span>
        </div>
      </header>

      <div className="timeline-body" ref={bodyRef}>
        {!chart ? (
          <div className="timeline-empty" data-testid="inspect-timeline-empty">
            {session ? "Every step you run shows up here." : "No session."}
          </div>
        ) : (
          <>
            <svg
              className="timeline-svg"
              data-testid="inspect-timeline"
              width={chart.width}
              height={HEIGHT}
              role="img"
              aria-label={`Loss over ${steps.length} steps`}
              onPointerMove={(event) => {
                const i = indexAt(event);
                setHover(i < 0 ? null : i);
              }}
              onPointerLeave={() => setHover(null)}
              onClick={(event) => {
                const i = indexAt(event);
                if (i >= 0) void loadStep(steps[i]);
              }}
            >
              {session?.retained && (
                <rect
                  className="timeline-band"
                  x={chart.x(session.retained[0]) - chart.half}
                  y={MARGIN.top}
                  width={chart.x(session.retained[1]) - chart.x(session.retained[0]) + 2 * chart.half}
                  height={chart.plotHeight}
                  rx={3}
                />
              )}
              {chart.yTicks.map((tick) => (
                <g key={`y${tick}`}>
                  <line className="chart-grid" x1={MARGIN.left} x2={chart.width - MARGIN.right} y1={chart.y(tick)} y2={chart.y(tick)} />
                  <text className="chart-tick" x={MARGIN.left - 10} y={chart.y(tick)} textAnchor="end" dominantBaseline="middle">
                    {formatTick(tick, chart.yStep)}
                  </text>
                </g>
              ))}
              {chart.xTicks.map((tick) => (
                <text key={`x${tick}`} className="chart-tick" x={chart.x(tick)} y={HEIGHT - 8} textAnchor="middle">
                  {formatCount(tick)}
                </text>
              ))}
              <path className="timeline-line" d={chart.path} />
              {selectedStep !== null && historyHas(steps, selectedStep) && (
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
              {steps.length <= MAX_DRAWN_POINTS &&
                steps.map((step, i) => {
                  const value = losses[i];
                  const finite = typeof value === "number" && Number.isFinite(value);
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
            </svg>
            {hovered !== null && (
              <Tooltip
                step={steps[hovered]}
                loss={losses[hovered]}
                held={isRetained(session, steps[hovered])}
                left={chart.x(steps[hovered])}
                top={(() => {
                  const value = losses[hovered];
                  return typeof value === "number" && Number.isFinite(value) ? chart.y(value) : MARGIN.top;
                })()}
                flip={chart.x(steps[hovered]) > chart.width - 190}
              />
            )}
          </>
        )}
      </div>

      <footer className="timeline-foot">
        <InspectStepSlider />
      </footer>
    </section>
  );
}

/** A tick value with as many decimals as the tick spacing needs: 0.2 -> "0.2", 0.005 -> "0.005". */
function formatTick(value: number, step: number): string {
  const decimals = Math.min(6, Math.max(0, -Math.floor(Math.log10(Math.abs(step) || 1))));
  return value.toFixed(decimals);
}

function historyHas(steps: readonly number[], step: number): boolean {
  const i = nearestIndex(steps, step);
  return i >= 0 && steps[i] === step;
}

function Tooltip(props: { step: number; loss: number | null; held: boolean; left: number; top: number; flip: boolean }) {
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
      <span className={props.held ? "tooltip-note" : "tooltip-note evicted"}>
        {props.held ? "full tensors held · click to load" : "full tensors evicted · scalars only"}
      </span>
    </div>
  );
}

interface Chart {
  width: number;
  plotHeight: number;
  /** Half the distance between two steps (at least 2 px), for bands around a step. */
  half: number;
  radius: number;
  x: (step: number) => number;
  y: (value: number) => number;
  stepAt: (px: number) => number;
  xTicks: number[];
  yTicks: number[];
  /** Distance between two y ticks, to print them with just enough decimals. */
  yStep: number;
  path: string;
}

function layout(steps: readonly number[], losses: readonly (number | null)[], width: number): Chart | null {
  if (steps.length === 0) return null;
  const plotWidth = Math.max(40, width - MARGIN.left - MARGIN.right);
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const first = steps[0];
  const last = steps[steps.length - 1];
  // One step sits in the middle; otherwise half a step of room at both ends.
  const lo = first - 0.5;
  const hi = last + 0.5;
  const x = (step: number) => MARGIN.left + ((step - lo) / (hi - lo)) * plotWidth;
  const stepAt = (px: number) => lo + ((px - MARGIN.left) / plotWidth) * (hi - lo);

  let min = Infinity;
  let max = -Infinity;
  for (const value of losses) {
    if (typeof value === "number" && Number.isFinite(value)) {
      min = Math.min(min, value);
      max = Math.max(max, value);
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

  let path = "";
  let pen = false;
  steps.forEach((step, i) => {
    const value = losses[i];
    if (typeof value === "number" && Number.isFinite(value)) {
      path += `${pen ? "L" : "M"}${x(step).toFixed(1)},${y(value).toFixed(1)}`;
      pen = true;
    } else {
      pen = false; // a gap where the loss was NaN/Inf
    }
  });

  const stepWidth = plotWidth / (hi - lo);
  const yTicks = niceTicks(yLo, yHi, 5).filter((tick) => tick >= yLo && tick <= yHi);
  const xTicks = niceTicks(first, last, Math.max(2, Math.floor(plotWidth / 90))).filter(
    (tick) => Number.isInteger(tick) && tick >= first && tick <= last,
  );
  return {
    width: plotWidth + MARGIN.left + MARGIN.right,
    plotHeight,
    half: Math.max(2, stepWidth / 2),
    radius: stepWidth >= 14 ? 4 : stepWidth >= 6 ? 3 : 2,
    x,
    y,
    stepAt,
    xTicks: xTicks.length ? xTicks : [first],
    yTicks,
    yStep: yTicks.length > 1 ? yTicks[1] - yTicks[0] : Math.abs(yTicks[0] ?? 1),
    path,
  };
}
