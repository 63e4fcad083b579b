import { useMemo, useState } from "react";

import { niceTicks } from "../lib/chart";
import { barLabel, histogramBars } from "../lib/codebook/histogram";
import { formatTick } from "../lib/codebook/scale";
import { useElementWidth } from "../lib/use-element-width";

const MARGIN = { top: 8, right: 8, bottom: 18, left: 46 };

/**
 * One bar per code (or per group of codes when there are more codes than pixels allow), dead codes
 * grey with a tick under the axis, a hover tooltip, and an optional highlighted code.
 */
export default function CodebookBars(props: {
  values: readonly number[];
  dead: readonly boolean[];
  /** Display order of the codes (default: by index). */
  order?: readonly number[];
  byRank?: boolean;
  height: number;
  /** CSS colour of live bars; a function colours each code itself. */
  color: string | ((code: number) => string);
  /** Shared y maximum (so two charts compare); default: the largest value. */
  yMax?: number;
  format: (value: number) => string;
  /** Axis tick labels (default: compact numbers). */
  formatAxis?: (value: number, step: number) => string;
  valueLabel: string;
  highlight?: number | null;
  onHover?: (code: number | null) => void;
  testId: string;
  ariaLabel: string;
  /** Extra data-* of the root. */
  data?: Record<string, string>;
}) {
  const { values, dead, height } = props;
  const [boxRef, width] = useElementWidth<HTMLDivElement>(420);
  const [hover, setHover] = useState<number | null>(null);

  const chart = useMemo(() => {
    const plotWidth = Math.max(40, width - MARGIN.left - MARGIN.right);
    const plotHeight = height - MARGIN.top - MARGIN.bottom;
    const maxBars = Math.max(8, Math.floor(plotWidth / 3));
    const bars = histogramBars(values, dead, maxBars, props.order);
    const top = props.yMax ?? Math.max(0, ...values.filter(Number.isFinite));
    const yMax = top > 0 ? top : 1;
    const slot = plotWidth / Math.max(1, bars.length);
    const gap = slot >= 4 ? 1 : 0;
    const ticks = niceTicks(0, yMax, Math.max(2, Math.floor(plotHeight / 32))).filter((t) => t <= yMax * 1.0001);
    return { plotWidth, plotHeight, bars, yMax, slot, gap, ticks, tickStep: ticks.length > 1 ? ticks[1] - ticks[0] : yMax };
  }, [values, dead, props.order, props.yMax, width, height]);

  const y = (v: number) => MARGIN.top + chart.plotHeight - (Math.max(0, Math.min(v, chart.yMax)) / chart.yMax) * chart.plotHeight;
  const base = MARGIN.top + chart.plotHeight;
  const hovered = hover !== null ? chart.bars[hover] : null;
  const colourOf = (code: number) => (typeof props.color === "function" ? props.color(code) : props.color);

  const pick = (clientX: number, box: DOMRect) => {
    const i = Math.floor((clientX - box.left - MARGIN.left) / chart.slot);
    const next = i >= 0 && i < chart.bars.length ? i : null;
    setHover(next);
    props.onHover?.(next === null ? null : chart.bars[next].codes.length === 1 ? chart.bars[next].codes[0] : null);
  };

  return (
    <div className="cb-bars" ref={boxRef} data-testid={props.testId} data-bars={chart.bars.length} {...props.data}>
      <svg
        width={chart.plotWidth + MARGIN.left + MARGIN.right}
        height={height}
        role="img"
        aria-label={props.ariaLabel}
        onPointerMove={(e) => pick(e.clientX, e.currentTarget.getBoundingClientRect())}
        onPointerLeave={() => {
          setHover(null);
          props.onHover?.(null);
        }}
      >
        {chart.ticks.map((t) => (
          <g key={t}>
            <line className="chart-grid" x1={MARGIN.left} x2={MARGIN.left + chart.plotWidth} y1={y(t)} y2={y(t)} />
            <text className="cb-tick" x={MARGIN.left - 6} y={y(t)} textAnchor="end" dominantBaseline="middle">
              {props.formatAxis ? props.formatAxis(t, chart.tickStep) : formatTick(t, false, chart.tickStep)}
            </text>
          </g>
        ))}
        {chart.bars.map((bar, i) => {
          const x = MARGIN.left + i * chart.slot;
          const allDead = bar.dead === bar.codes.length;
          const focus = props.highlight !== null && props.highlight !== undefined && bar.codes.includes(props.highlight);
          const h = base - y(bar.value);
          return (
            <g key={bar.start} className={focus || hover === i ? "cb-bar focus" : "cb-bar"}>
              <rect
                x={x + chart.gap / 2}
                y={base - Math.max(h, bar.value > 0 ? 1 : 0)}
                width={Math.max(1, chart.slot - chart.gap)}
                height={Math.max(h, bar.value > 0 ? 1 : 0)}
                fill={allDead ? "var(--cb-dead)" : colourOf(bar.codes[0])}
                data-dead={bar.dead > 0 ? "true" : undefined}
              />
              {bar.dead > 0 && <rect className="cb-dead-tick" x={x + chart.gap / 2} y={base + 2} width={Math.max(1, chart.slot - chart.gap)} height={4} />}
            </g>
          );
        })}
        <line className="chart-axis" x1={MARGIN.left} x2={MARGIN.left + chart.plotWidth} y1={base} y2={base} />
        <text className="cb-tick" x={MARGIN.left} y={height - 3} textAnchor="start">
          {props.byRank ? "most used" : `code ${chart.bars[0]?.codes[0] ?? 0}`}
        </text>
        <text className="cb-tick" x={MARGIN.left + chart.plotWidth} y={height - 3} textAnchor="end">
          {props.byRank ? "least used" : `${(chart.bars.at(-1)?.codes.at(-1) ?? 0)}`}
        </text>
      </svg>
      {hovered && (
        <div
          className={MARGIN.left + (hover ?? 0) * chart.slot > chart.plotWidth - 120 ? "cb-tooltip flip" : "cb-tooltip"}
          style={{ left: MARGIN.left + ((hover ?? 0) + 0.5) * chart.slot, top: MARGIN.top + chart.plotHeight / 2 }}
        >
          <span className="cb-tooltip-title">{barLabel(hovered, Boolean(props.byRank))}</span>
          <span className="cb-tooltip-row">
            <span className="cb-tooltip-label">{hovered.codes.length > 1 ? `largest ${props.valueLabel}` : props.valueLabel}</span>
            <strong className="mono">{props.format(hovered.value)}</strong>
          </span>
          {hovered.dead > 0 && (
            <span className="cb-tooltip-note">{hovered.codes.length > 1 ? `${hovered.dead} of ${hovered.codes.length} dead` : "dead code"}</span>
          )}
        </div>
      )}
    </div>
  );
}
