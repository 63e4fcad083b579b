import { useStore } from "@nanostores/react";
import { useMemo, useState } from "react";

import {
  $codebookConfig,
  $codebookDynamics,
  $codebookDynamicsAll,
  $codebookRunId,
  $dynamicsLevel,
  $dynamicsOpen,
  $dynamicsSideBySide,
  setDynamicsLevel,
  setDynamicsOpen,
  setDynamicsSideBySide,
} from "../lib/codebook-store";
import type { CodebookDynamics as Dynamics } from "../lib/codebook-types";
import {
  type CodeFilter,
  type Point,
  codeColour,
  deadVsActive,
  fitBounds,
  trajectoryBounds,
  visibleCodes,
} from "../lib/codebook/trajectory";
import { formatCount, formatValue } from "../lib/format";
import { useElementWidth } from "../lib/use-element-width";
import CodebookBars, { type LevelBars } from "./CodebookBars";

const FILTERS: { id: CodeFilter; label: string }[] = [
  { id: "all", label: "All" },
  { id: "active", label: "Active" },
  { id: "dead", label: "Dead" },
];

/**
 * Codebook dynamics: where every code of a level went over the snapshots
 * (left) and how much gradient each code gets (right; EMA cluster sizes for EMA codebooks).
 */
export default function CodebookDynamics() {
  const runId = useStore($codebookRunId, { ssr: () => null });
  const open = useStore($dynamicsOpen, { ssr: "initial" });
  const level = useStore($dynamicsLevel, { ssr: "initial" });
  const dynamics = useStore($codebookDynamics, { ssr: "initial" });
  const config = useStore($codebookConfig, { ssr: "initial" });
  const [filter, setFilter] = useState<CodeFilter>("all");
  const [focus, setFocus] = useState<number | null>(null);

  const own = runId && dynamics && dynamics.run_id === runId && dynamics.trajectory.level === level ? dynamics : null;
  const levels = config && runId && config.runId === runId ? config.config.levels : 0;

  return (
    <details
      className="card cb-dynamics"
      open={open}
      onToggle={(e) => {
        const next = e.currentTarget.open;
        if (next !== open) setDynamicsOpen(next);
      }}
      data-testid="codebook-dynamics"
    >
      <summary className="card-head cb-summary">
        <h2>
          <svg className="cb-chevron" viewBox="0 0 16 16" aria-hidden="true">
            <path d="M6 4l4 4-4 4" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
          </svg>
          Debug: Codebook Dynamics
        </h2>
        <span className="cb-head-note">Do dead codes move? Do they get any gradient?</span>
      </summary>
      {!runId ? (
        <div className="cb-empty">
          <p className="empty-title">No VQ-VAE run yet</p>
          <p className="empty-text">A learned codebook shows each code's path and gradient here; an EMA codebook its cluster sizes.</p>
        </div>
      ) : (
        <div className="cb-dynamics-body">
          <div className="cb-dynamics-bar">
            <div className="cb-segmented small" role="group" aria-label="Level" data-testid="codebook-dynamics-level">
              {Array.from({ length: levels }, (_, i) => i + 1).map((l) => (
                <button
                  key={l}
                  type="button"
                  className={l === level ? "cb-segmented-btn active" : "cb-segmented-btn"}
                  aria-pressed={l === level}
                  onClick={() => setDynamicsLevel(l)}
                >
                  Level {l}
                </button>
              ))}
            </div>
            <div className="cb-segmented small" role="group" aria-label="Codes shown">
              {FILTERS.map((f) => (
                <button
                  key={f.id}
                  type="button"
                  className={f.id === filter ? "cb-segmented-btn active" : "cb-segmented-btn"}
                  aria-pressed={f.id === filter}
                  onClick={() => setFilter(f.id)}
                >
                  {f.label}
                </button>
              ))}
            </div>
            {own && <DeadVsActive dynamics={own} />}
          </div>
          {!own ? (
            <div className="cb-empty">
              <span className="spinner" aria-hidden="true" />
              <p className="empty-text">Loading level {level}…</p>
            </div>
          ) : (
            <div className="cb-dynamics-grid">
              <TrajectoryPlot dynamics={own} filter={filter} focus={focus} onFocus={setFocus} />
              <CodeBars dynamics={own} levels={levels} filter={filter} focus={focus} onFocus={setFocus} />
            </div>
          )}
        </div>
      )}
    </details>
  );
}

function DeadVsActive({ dynamics }: { dynamics: Dynamics }) {
  const bars = dynamics.grad_ema ?? dynamics.ema_cluster_sizes;
  const stats = useMemo(
    () => deadVsActive(dynamics.trajectory.points as Point[][], dynamics.trajectory.dead, bars),
    [dynamics, bars],
  );
  const what = dynamics.grad_ema ? "gradient" : "EMA size";
  return (
    <p className="cb-dead-vs-active" data-testid="codebook-dead-vs-active">
      <span>
        <strong>{stats.dead}</strong> dead · <strong>{stats.active}</strong> active
      </span>
      <span>
        moved (2-D path): dead <strong className="mono">{formatValue(stats.deadMoved)}</strong> vs active{" "}
        <strong className="mono">{formatValue(stats.activeMoved)}</strong>
      </span>
      <span>
        mean {what}: dead <strong className="mono">{formatValue(stats.deadBar)}</strong> vs active{" "}
        <strong className="mono">{formatValue(stats.activeBar)}</strong>
      </span>
    </p>
  );
}

const PLOT_HEIGHT = 380;
const PLOT_MARGIN = 18;

function TrajectoryPlot(props: { dynamics: Dynamics; filter: CodeFilter; focus: number | null; onFocus: (code: number | null) => void }) {
  const { trajectory } = props.dynamics;
  const [boxRef, width] = useElementWidth<HTMLDivElement>(520);
  const points = trajectory.points as Point[][];
  const codes = useMemo(() => visibleCodes(trajectory.dead, props.filter, points.length), [trajectory.dead, props.filter, points.length]);
  const plot = useMemo(() => {
    const bounds = trajectoryBounds(points, codes);
    if (!bounds) return null;
    const fit = fitBounds(bounds, width, PLOT_HEIGHT, PLOT_MARGIN);
    // Dead codes first, so the active ones are drawn on top of them.
    const ordered = [...codes].sort((a, b) => Number(trajectory.dead[b]) - Number(trajectory.dead[a]));
    const paths = ordered.map((k) => {
      const line = points[k] ?? [];
      const d = line.map(([x, y], i) => `${i ? "L" : "M"}${fit.x(x).toFixed(1)},${fit.y(y).toFixed(1)}`).join("");
      const start = line[0];
      const end = line[line.length - 1];
      return { code: k, d, start, end, dead: Boolean(trajectory.dead[k]) };
    });
    return { fit, paths };
  }, [points, codes, width, trajectory.dead]);

  const steps = trajectory.steps;
  const range = steps.length ? `steps ${formatCount(steps[0])}–${formatCount(steps[steps.length - 1])}` : "no snapshots";
  const focus = props.focus;

  const nearest = (clientX: number, clientY: number, box: DOMRect): number | null => {
    if (!plot) return null;
    const px = clientX - box.left;
    const py = clientY - box.top;
    let best: number | null = null;
    let bestDistance = 14 * 14;
    for (const p of plot.paths) {
      if (!p.end) continue;
      const dx = plot.fit.x(p.end[0]) - px;
      const dy = plot.fit.y(p.end[1]) - py;
      const d = dx * dx + dy * dy;
      if (d < bestDistance) {
        bestDistance = d;
        best = p.code;
      }
    }
    return best;
  };

  return (
    <figure className="cb-figure">
      <figcaption className="cb-figure-head">
        <h3>Codebook trajectory · level {trajectory.level}</h3>
        <span className="cb-figure-sub">
          {range} · {steps.length} snapshot{steps.length === 1 ? "" : "s"}, one every {props.dynamics.snapshot_every} steps (last 200 kept) ·{" "}
          {trajectory.projection ?? ""}
        </span>
      </figcaption>
      <div
        className="cb-trajectory"
        ref={boxRef}
        data-testid="codebook-trajectory"
        data-codes={codes.length}
        data-snapshots={steps.length}
      >
        {!plot ? (
          <div className="cb-empty" style={{ height: PLOT_HEIGHT }}>
            <p className="empty-text">{props.filter === "dead" ? "No dead codes on this level." : "No snapshots yet."}</p>
          </div>
        ) : (
          <svg
            width={width}
            height={PLOT_HEIGHT}
            role="img"
            aria-label={`Trajectories of ${codes.length} level-${trajectory.level} codes over ${steps.length} snapshots`}
            className={focus !== null ? "has-focus" : undefined}
            onPointerMove={(e) => props.onFocus(nearest(e.clientX, e.clientY, e.currentTarget.getBoundingClientRect()))}
            onPointerLeave={() => props.onFocus(null)}
          >
            <line className="cb-origin" x1={plot.fit.x(0)} x2={plot.fit.x(0)} y1={0} y2={PLOT_HEIGHT} />
            <line className="cb-origin" x1={0} x2={width} y1={plot.fit.y(0)} y2={plot.fit.y(0)} />
            {plot.paths.map((p) => {
              const colour = p.dead ? "var(--cb-dead)" : codeColour(p.code);
              const cls = `cb-traj${p.dead ? " dead" : ""}${focus === p.code ? " focus" : ""}`;
              return (
                <g key={p.code} className={cls} data-code={p.code} data-dead={p.dead ? "true" : "false"}>
                  {steps.length > 1 && <path d={p.d} stroke={colour} strokeDasharray={p.dead ? "4 3" : undefined} />}
                  {p.start && steps.length > 1 && <circle className="cb-traj-start" cx={plot.fit.x(p.start[0])} cy={plot.fit.y(p.start[1])} r={2.4} stroke={colour} />}
                  {p.end && <circle className="cb-traj-end" cx={plot.fit.x(p.end[0])} cy={plot.fit.y(p.end[1])} r={p.dead ? 4 : 5} fill={colour} />}
                </g>
              );
            })}
          </svg>
        )}
        {focus !== null && plot && (
          <FocusNote dynamics={props.dynamics} code={focus} points={points[focus] ?? []} />
        )}
      </div>
      <p className="cb-figure-legend">
        <span>
          <svg width="12" height="12" aria-hidden="true">
            <circle cx="6" cy="6" r="2.6" fill="none" stroke="currentColor" strokeWidth="1.3" />
          </svg>
          start
        </span>
        <span>
          <svg width="12" height="12" aria-hidden="true">
            <circle cx="6" cy="6" r="5" fill="currentColor" />
          </svg>
          end (now)
        </span>
        <span>
          <svg width="22" height="12" aria-hidden="true">
            <path d="M1 6h20" stroke="var(--cb-dead)" strokeWidth="1.5" strokeDasharray="4 3" />
          </svg>
          dead code
        </span>
        <span className="muted">colour: code index (tab10) · hover a code</span>
      </p>
    </figure>
  );
}

function FocusNote({ dynamics, code, points }: { dynamics: Dynamics; code: number; points: Point[] }) {
  const bars = dynamics.grad_ema ?? dynamics.ema_cluster_sizes;
  const dead = dynamics.trajectory.dead[code];
  return (
    <div className="cb-focus-note" data-testid="codebook-trajectory-focus">
      <strong>code {code}</strong> {dead ? <span className="tag">dead</span> : null}
      <span>
        {formatCount(dynamics.counts[code] ?? 0)} uses in the window · {points.length} snapshots
      </span>
      {bars && (
        <span>
          {dynamics.grad_ema ? "gradient EMA" : "EMA cluster size"} <strong className="mono">{formatValue(bars[code])}</strong>
        </span>
      )}
    </div>
  );
}

/** A level's bars with the filter applied: the other codes' bars are 0, so each code keeps its place. */
function filteredBars(dynamics: Dynamics, filter: CodeFilter): LevelBars {
  const values = dynamics.grad_ema ?? dynamics.ema_cluster_sizes ?? [];
  const dead = dynamics.trajectory.dead;
  const keep = new Set(visibleCodes(dead, filter, values.length));
  return { level: dynamics.trajectory.level, values: values.map((v, k) => (keep.has(k) ? v : 0)), dead };
}

function CodeBars(props: {
  dynamics: Dynamics;
  /** How many levels the run has. */
  levels: number;
  filter: CodeFilter;
  focus: number | null;
  onFocus: (code: number | null) => void;
}) {
  const { dynamics } = props;
  const runId = useStore($codebookRunId, { ssr: () => null });
  const sideBySide = useStore($dynamicsSideBySide, { ssr: "initial" }) && props.levels > 1;
  const all = useStore($codebookDynamicsAll, { ssr: "initial" });
  const learned = dynamics.grad_ema !== null;
  const shown = useMemo(() => filteredBars(dynamics, props.filter), [dynamics, props.filter]);
  // Every level, when they stand side by side and all have answered (the same kind of codebook).
  const levels = useMemo(() => {
    if (!sideBySide || !all || all.runId !== runId || all.levels.length < 2) return null;
    return all.levels.map((level) => filteredBars(level, props.filter));
  }, [sideBySide, all, runId, props.filter]);
  const colour = (code: number) => codeColour(code);
  const what = learned ? "Code gradient magnitude" : "EMA cluster size";

  return (
    <figure className="cb-figure">
      <figcaption className="cb-figure-head">
        <div className="cb-figure-title-row">
          <h3>{levels ? `${what} · levels ${levels.map((l) => l.level).join(", ")}` : `${what} · level ${dynamics.trajectory.level}`}</h3>
          {props.levels > 1 && (
            <div className="cb-segmented small" role="group" aria-label="Levels shown">
              {[
                { id: false, label: `Level ${dynamics.trajectory.level}`, title: "The level chosen above" },
                { id: true, label: "All levels side by side", title: "Every level's bars beside each other, code by code, on one y axis" },
              ].map((option) => (
                <button
                  key={option.label}
                  type="button"
                  className={sideBySide === option.id ? "cb-segmented-btn active" : "cb-segmented-btn"}
                  aria-pressed={sideBySide === option.id}
                  title={option.title}
                  data-testid={`codebook-grad-levels-${option.id ? "all" : "one"}`}
                  onClick={() => setDynamicsSideBySide(option.id)}
                >
                  {option.label}
                </button>
              ))}
            </div>
          )}
        </div>
        <span className="cb-figure-sub">
          {learned
            ? `‖∂L/∂c_k‖ per code, smoothed: EMA with α = ${dynamics.grad_alpha} (each step adds ${dynamics.grad_alpha} of the new norm) · ${levels ? "faded" : "grey"}: dead`
            : `the quantizer's running count per code (decay 0.99) · ${levels ? "faded" : "grey"}: dead`}
        </span>
      </figcaption>
      {sideBySide && !levels && <p className="cb-figure-legend block muted">Loading every level…</p>}
      <CodebookBars
        values={shown.values}
        dead={shown.dead}
        levels={levels ?? undefined}
        height={PLOT_HEIGHT - 4 - (levels ? 24 : 0)}
        color={colour}
        format={formatValue}
        valueLabel={learned ? "gradient EMA" : "EMA cluster size"}
        highlight={props.focus}
        onHover={props.onFocus}
        testId="codebook-grad-bars"
        ariaLabel={learned ? "Per-code gradient magnitude" : "Per-code EMA cluster size"}
        data={{ "data-kind": dynamics.kind }}
      />
      <p className="cb-figure-legend block" data-testid="codebook-grad-note">
        {learned ? (
          <>
            A dead code with a bar near 0 gets no gradient (nothing is assigned to it, and the Sinkhorn loss, when on, is not reaching
            it); a dead code with a visible bar gets gradient but does not move enough.
          </>
        ) : (
          <>
            <strong>Why no gradients here:</strong> an EMA codebook is not trained by the optimizer — each code is set to the moving average of
            the encoder vectors assigned to it, so its codebook gradient is always zero. The EMA cluster size (how many vectors it has been
            getting) shows the same thing from the other side: a code near 0 gets no vectors and will not move.
          </>
        )}
      </p>
    </figure>
  );
}
