import { useMemo, useState } from "react";

import { barLabel, type GroupedBar, groupedBars, levelColour } from "../lib/codebook/histogram";
import { type TickFormat, linearAxis } from "../lib/ticks";
import { useElementWidth } from "../lib/use-element-width";
import { AxisOffset } from "./StepChart";

const MARGIN = { top: 8, right: 8, bottom: 18, left: 46 };

/** One level's bars, when several levels stand side by side. */
export interface LevelBars {
  level: number;
  values: readonly number[];
  dead: readonly boolean[];
}

/**
 * One bar per code (or per group of codes when there are more codes than pixels allow), dead codes
 * grey with a tick under the axis, a hover tooltip, and an optional highlighted code. Given
 * `levels` (two or more), each code gets one bar per level side by side, coloured by level, on one
 * shared y axis, so the levels compare code by code.
 */
export default function CodebookBars(props: {
  values: readonly number[];
  dead: readonly boolean[];
  /** Several levels side by side (replaces values/dead when it has two or more). */
  levels?: readonly LevelBars[];
  /** Display order of the codes (default: by index). */
  order?: readonly number[];
  byRank?: boolean;
  height: number;
  /** CSS colour of live bars; a function colours each code itself (one level only). */
  color: string | ((code: number) => string);
  /** Shared y maximum (so two charts compare); default: the largest value. */
  yMax?: number;
  format: (value: number) => string;
  /** How the axis tick labels read (e.g. percentages); see lib/ticks.ts. */
  tickFormat?: TickFormat;
  valueLabel: string;
  highlight?: number | null;
  onHover?: (code: number | null) => void;
  testId: string;
  ariaLabel: string;
  /** Extra data-* of the root. */
  data?: Record<string, string>;
}) {
  const { height } = props;
  const [boxRef, width] = useElementWidth<HTMLDivElement>(420);
  const [hover, setHover] = useState<number | null>(null);
  const series = useMemo(
    () => (props.levels && props.levels.length > 1 ? props.levels : [{ level: 0, values: props.values, dead: props.dead }]),
    [props.levels, props.values, props.dead],
  );
  const grouped = series.length > 1;

  const chart = useMemo(() => {
    const plotWidth = Math.max(40, width - MARGIN.left - MARGIN.right);
    const plotHeight = height - MARGIN.top - MARGIN.bottom;
    // At least 3 px per bar: fewer groups when each holds a bar per level.
    const maxBars = Math.max(8, Math.floor(plotWidth / (3 * series.length)));
    const bars = groupedBars(series, maxBars, props.order);
    const top = props.yMax ?? Math.max(0, ...series.flatMap((s) => s.values.filter(Number.isFinite)));
    const yMax = top > 0 ? top : 1;
    const slot = plotWidth / Math.max(1, bars.length);
    const gap = slot >= 4 ? 1 : 0;
    const sub = Math.max(1, (slot - gap) / series.length);
    const axis = linearAxis(0, yMax, Math.max(2, Math.floor(plotHeight / 32)), props.tickFormat);
    return { plotWidth, plotHeight, bars, yMax, slot, gap, sub, axis };
  }, [series, props.order, props.yMax, props.tickFormat, width, height]);

  const y = (v: number) => MARGIN.top + chart.plotHeight - (Math.max(0, Math.min(v, chart.yMax)) / chart.yMax) * chart.plotHeight;
  const base = MARGIN.top + chart.plotHeight;
  const hovered = hover !== null ? chart.bars[hover] : null;
  const colourOf = (code: number, s: number) =>
    grouped ? levelColour(series[s].level) : typeof props.color === "function" ? props.color(code) : props.color;

  const pick = (clientX: number, box: DOMRect) => {
    const i = Math.floor((clientX - box.left - MARGIN.left) / chart.slot);
    const next = i >= 0 && i < chart.bars.length ? i : null;
    setHover(next);
    props.onHover?.(next === null ? null : chart.bars[next].codes.length === 1 ? chart.bars[next].codes[0] : null);
  };
  const label = (bar: GroupedBar) => barLabel({ start: bar.start, codes: bar.codes, value: bar.values[0], dead: bar.dead[0] }, Boolean(props.byRank));

  return (
    <div
      className={grouped ? "cb-bars grouped" : "cb-bars"}
      ref={boxRef}
      data-testid={props.testId}
      data-bars={chart.bars.length}
      data-levels={series.length}
      {...props.data}
    >
      {grouped && (
        <p className="cb-bars-legend" data-testid={`${props.testId}-legend`}>
          {series.map((s) => (
            <span key={s.level} data-level={s.level}>
              <span className="cb-swatch-box" style={{ background: levelColour(s.level) }} />L{s.level}
            </span>
          ))}
          <span className="muted">side by side, one y axis · faded: dead on that level</span>
        </p>
      )}
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
        {chart.axis.ticks.map((t, i) => (
          <g key={t}>
            <line className="chart-grid" x1={MARGIN.left} x2={MARGIN.left + chart.plotWidth} y1={y(t)} y2={y(t)} />
            <text className="cb-tick" x={MARGIN.left - 6} y={y(t)} textAnchor="end" dominantBaseline="middle">
              {chart.axis.labels[i]}
            </text>
          </g>
        ))}
        <AxisOffset offset={chart.axis.offset} x={2} y={8} className="cb-tick" />
        {chart.bars.map((bar, i) => {
          const x = MARGIN.left + i * chart.slot + chart.gap / 2;
          const focus = props.highlight !== null && props.highlight !== undefined && bar.codes.includes(props.highlight);
          return (
            <g key={bar.start} className={focus || hover === i ? "cb-bar focus" : "cb-bar"}>
              {bar.values.map((value, s) => {
                const allDead = bar.dead[s] === bar.codes.length;
                const h = Math.max(base - y(value), value > 0 ? 1 : 0);
                const w = grouped ? chart.sub : Math.max(1, chart.slot - chart.gap);
                const left = x + (grouped ? s * chart.sub : 0);
                return (
                  <g key={s}>
                    <rect
                      x={left}
                      y={base - h}
                      width={w}
                      height={h}
                      fill={allDead && !grouped ? "var(--cb-dead)" : colourOf(bar.codes[0], s)}
                      opacity={allDead && grouped ? 0.35 : undefined}
                      data-dead={bar.dead[s] > 0 ? "true" : undefined}
                      data-level={grouped ? series[s].level : undefined}
                    />
                    {bar.dead[s] > 0 && <rect className="cb-dead-tick" x={left} y={base + 2} width={w} height={4} />}
                  </g>
                );
              })}
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
          data-testid={`${props.testId}-tooltip`}
        >
          <span className="cb-tooltip-title">{label(hovered)}</span>
          {hovered.values.map((value, s) => (
            <span key={s} className="cb-tooltip-row">
              {grouped && <span className="cb-swatch-box" style={{ background: levelColour(series[s].level) }} />}
              <span className="cb-tooltip-label">
                {grouped ? `L${series[s].level} ` : ""}
                {hovered.codes.length > 1 ? `largest ${props.valueLabel}` : props.valueLabel}
              </span>
              <strong className="mono">{props.format(value)}</strong>
            </span>
          ))}
          {hovered.dead.some((d) => d > 0) && (
            <span className="cb-tooltip-note">
              {hovered.dead
                .map((d, s) =>
                  d === 0 ? null : `${grouped ? `L${series[s].level}: ` : ""}${hovered.codes.length > 1 ? `${d} of ${hovered.codes.length} dead` : "dead code"}`,
                )
                .filter(Boolean)
                .join(" · ")}
            </span>
          )}
        </div>
      )}
    </div>
  );
}
