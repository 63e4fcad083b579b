import { useStore } from "@nanostores/react";
import { type FocusEvent, type KeyboardEvent, memo, useLayoutEffect, useMemo, useRef, useState, type PointerEvent } from "react";

import { $darkScheme } from "../../lib/color-scheme-store";
import { formatValue } from "../../lib/format";
import { gridStep, isActivationKey } from "../../lib/keyboard-nav";
import { formatExact } from "../../lib/views/axes";
import { summarize } from "../../lib/views/columns";
import { useElementWidth } from "../../lib/use-element-width";
import { Figure, HoverTip } from "./parts";

export interface BarChartProps {
  tensorKey: string;
  step: number;
  values: Float32Array | Int32Array | Float64Array;
  /** Singular/plural name of the index ("feature"/"features"). */
  indexName: [string, string];
  /** The bars are features: they highlight the focused one and select on click. */
  isFeature?: boolean;
  focused?: number | null;
  onSelectFeature?: (feature: number) => void;
  description?: string;
  height?: number;
  title?: string;
  /** Where the view sits (a trace section's id): part of its test ids. */
  place?: string;
}

interface ThemeColours {
  bar: string;
  danger: string;
  grid: string;
  mean: string;
}

const THEME_COLOURS = new Map<boolean, ThemeColours>();

/** The page's colours for canvas drawing, read once per scheme (reading computed styles while a
 * step renders would force the browser to recompute styles in the middle of the commit). */
function themeColours(): ThemeColours {
  const dark = window.matchMedia?.("(prefers-color-scheme: dark)").matches ?? false;
  let colours = THEME_COLOURS.get(dark);
  if (!colours) {
    const css = getComputedStyle(document.documentElement);
    const read = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
    colours = {
      bar: read("--accent", "#4338ca"),
      danger: read("--danger", "#b42318"),
      grid: read("--border", "#e1e4e9"),
      mean: read("--text-3", "#737c8c"),
    };
    THEME_COLOURS.set(dark, colours);
  }
  return colours;
}

const PAD_TOP = 6;
const PAD_BOTTOM = 4;

/**
 * One bar per index of a [N] vector, on a canvas; hover shows the index and the value. Bars that
 * are features select on click and, from the keyboard (one tab stop), Left/Right (Home/End) move a
 * bar cursor and Enter or Space selects its feature.
 */
function BarChart(props: BarChartProps) {
  const { values } = props;
  const height = props.height ?? 120;
  const dark = useStore($darkScheme, { ssr: "initial" });
  const [boxRef, width] = useElementWidth<HTMLDivElement>(320);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [hover, setHover] = useState<number | null>(null);

  const n = values.length;
  const stats = useMemo(() => summarize(values), [values]);
  // Bars grow from 0; the axis spans 0 and every finite value.
  const lo = Number.isFinite(stats.min) ? Math.min(0, stats.min) : 0;
  const hiRaw = Number.isFinite(stats.max) ? Math.max(0, stats.max) : 1;
  const hi = hiRaw > lo ? hiRaw : lo + 1;

  // Redrawn on a change of scheme too (`dark`): themeColours() reads the scheme's colours.
  useLayoutEffect(() => {
    const plotH = height - PAD_TOP - PAD_BOTTOM;
    const y = (v: number) => PAD_TOP + ((hi - v) / (hi - lo)) * plotH;
    const canvas = canvasRef.current;
    if (!canvas || width <= 0) return;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    const context = canvas.getContext("2d");
    if (!context) return;
    context.setTransform(dpr, 0, 0, dpr, 0, 0);
    context.clearRect(0, 0, width, height);
    const { bar, danger, grid, mean } = themeColours();
    const slot = width / n;
    const gap = slot >= 4 ? Math.min(2, slot * 0.2) : 0;
    const zero = y(0);
    context.fillStyle = grid;
    context.fillRect(0, Math.round(zero) - 0.5, width, 1);
    context.fillStyle = bar;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      const x = i * slot + gap / 2;
      if (!Number.isFinite(v)) {
        context.fillStyle = danger;
        context.fillRect(x, PAD_TOP, Math.max(1, slot - gap), plotH);
        context.fillStyle = bar;
        continue;
      }
      const top = Math.min(y(v), zero);
      const h = Math.max(Math.abs(zero - y(v)), v === 0 ? 0 : 1);
      context.fillRect(x, top, Math.max(1, slot - gap), h);
    }
    // The mean as a dashed line: is the vector flat (every bar on it) or varied?
    if (Number.isFinite(stats.mean)) {
      context.strokeStyle = mean;
      context.setLineDash([3, 3]);
      context.lineWidth = 1;
      context.beginPath();
      const my = Math.round(y(stats.mean)) + 0.5;
      context.moveTo(0, my);
      context.lineTo(width, my);
      context.stroke();
    }
  }, [values, width, height, n, lo, hi, dark, stats.mean]);

  const slot = width / Math.max(1, n);
  const onMove = (event: PointerEvent<HTMLDivElement>) => {
    const box = event.currentTarget.getBoundingClientRect();
    const i = Math.floor(((event.clientX - box.left) / box.width) * n);
    setHover(i >= 0 && i < n ? i : null);
  };
  const focused = props.isFeature && props.focused !== null && props.focused !== undefined && props.focused < n ? props.focused : null;
  const selectable = Boolean(props.isFeature && props.onSelectFeature);

  // The keyboard's cursor is the hover bar; it starts on the focused feature.
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.altKey || event.metaKey) return;
    if (isActivationKey(event.key)) {
      if (hover === null) return;
      event.preventDefault();
      props.onSelectFeature?.(hover);
      return;
    }
    if (event.key === "Escape") {
      setHover(null);
      return;
    }
    const next = gridStep(event.key, hover ?? focused ?? 0, n, n, { ctrl: event.ctrlKey });
    if (next === null || event.key === "ArrowUp" || event.key === "ArrowDown") return;
    event.preventDefault();
    setHover(next);
  };
  const onFocus = (event: FocusEvent<HTMLDivElement>) => {
    // A keyboard focus shows the cursor at once; a click's focus leaves it to the pointer.
    if (hover === null && n > 0 && event.currentTarget.matches(":focus-visible")) setHover(focused ?? 0);
  };

  return (
    <Figure
      tensorKey={props.tensorKey}
      view="bar-chart"
      step={props.step}
      place={props.place}
      shape={[n]}
      title={props.title}
      description={props.description}
    >
      <div className="bar-body">
        <div className="bar-yaxis mono" style={{ height }}>
          <span>{formatValue(hi)}</span>
          <span>{formatValue(lo)}</span>
        </div>
        <div className="bar-plot" ref={boxRef}>
          <div
            className={selectable ? "bar-frame selectable" : "bar-frame"}
            style={{ height }}
            onPointerMove={onMove}
            onPointerLeave={() => setHover(null)}
            onClick={() => hover !== null && selectable && props.onSelectFeature?.(hover)}
            {...(selectable && {
              tabIndex: 0,
              role: "application",
              "aria-roledescription": "feature picker",
              "aria-label": `${props.tensorKey}: left and right arrow keys move between features, Enter focuses one`,
              onKeyDown,
              onFocus,
              onBlur: () => setHover(null),
            })}
          >
            <canvas
              ref={canvasRef}
              className="bar-canvas"
              style={{ width, height }}
              data-testid="bar-chart-canvas"
              data-key={props.tensorKey}
              data-step={props.step}
              role="img"
              aria-label={`${props.tensorKey}: one bar per ${props.indexName[0]}`}
            />
            {focused !== null && <span className="bar-focus" style={{ left: focused * slot, width: Math.max(2, slot) }} />}
            {hover !== null && <span className="bar-hover" style={{ left: hover * slot, width: Math.max(2, slot) }} />}
            {hover !== null && (
              <HoverTip
                x={(hover + 1) * slot + 6}
                y={height / 2}
                frameWidth={width}
                testId="bar-chart-tooltip"
                data={{ index: hover, value: String(values[hover]), key: props.tensorKey }}
              >
                <span className="vtip-head">
                  {props.indexName[0]} <strong>{hover}</strong>
                </span>
                <span className="vtip-value mono">{formatExact(values[hover])}</span>
                {selectable && <span className="vtip-note">click or Enter to focus</span>}
              </HoverTip>
            )}
          </div>
          <div className="bar-foot">
            <span>
              {n} {props.indexName[1]}
              {stats.nonfinite > 0 && <span className="bar-nan"> · {stats.nonfinite} NaN/Inf</span>}
            </span>
            <span className="mono">
              min {formatValue(stats.min)} · mean {formatValue(stats.mean)} · max {formatValue(stats.max)}
            </span>
          </div>
        </div>
      </div>
    </Figure>
  );
}

export default memo(BarChart);
