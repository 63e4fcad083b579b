import { useStore } from "@nanostores/react";
import { type FormEvent, useMemo, useState } from "react";

import { $darkScheme } from "../lib/color-scheme-store";
import { formatCount, formatValue } from "../lib/format";
import { cosineRgb, lutFor, lutGradient, rgb, textOn } from "../lib/views/colour";
import {
  type SimilarityMatrix,
  TRAJECTORY_METRICS,
  featureColor,
  meanOffDiagonal,
  parseFeatureIds,
  shownFeatures,
  similarityMatrix,
  trajectoryLines,
} from "../lib/runs/trajectory";
import { $run } from "../lib/run-store";
import {
  $trajectories,
  $trajectoryMetric,
  $watched,
  MAX_WATCHED,
  clearTrajectories,
  exportTrajectories,
  setTrajectoryMetric,
  setWatched,
  unwatchFeature,
} from "../lib/runs-store";
import { Segmented } from "./ChartControls";
import RunsLineChart, { type ChartLine } from "./RunsLineChart";

/**
 * Watched features: pick up to 8 (typed here, or from the scatter's detail), follow their
 * trajectories while stepping and while running, compare them pairwise, export them.
 */
export default function RunsWatchPanel() {
  const run = useStore($run, { ssr: () => null });
  const watched = useStore($watched, { ssr: "initial" });
  const trajectories = useStore($trajectories, { ssr: "initial" });
  const metric = useStore($trajectoryMetric, { ssr: "initial" });
  const [text, setText] = useState("");
  const [inputError, setInputError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  const own = trajectories && run && trajectories.run_id === run.run_id ? trajectories : null;
  const lines = useMemo(() => trajectoryLines(own, watched, metric), [own, watched, metric]);
  const features = useMemo(() => shownFeatures(own, watched), [own, watched]);
  const chartLines = useMemo<ChartLine[]>(
    () =>
      lines.map((line) => ({
        id: String(line.feature),
        label: line.watched ? `feature ${line.feature}` : `feature ${line.feature} (not watched)`,
        color: line.color,
        xs: line.steps,
        ys: line.values,
        length: line.count,
        dashed: !line.watched,
        testId: "runs-trajectory-line",
        data: { "data-feature": String(line.feature), "data-watched": String(line.watched) },
      })),
    [lines],
  );
  const matrix = useMemo(() => similarityMatrix(own), [own]);
  const totalPoints = lines.reduce((sum, line) => sum + line.count, 0);
  const dim = run?.model_dim ?? 64;
  const metricInfo = TRAJECTORY_METRICS.find((m) => m.field === metric)!;

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseFeatureIds(text, dim, MAX_WATCHED);
    if (parsed.error !== null) {
      setInputError(parsed.error);
      return;
    }
    const next = [...watched, ...parsed.ids.filter((f) => !watched.includes(f))];
    if (next.length > MAX_WATCHED) {
      setInputError(`at most ${MAX_WATCHED} features can be watched; ${watched.length} already are`);
      return;
    }
    setInputError(null);
    setSaving(true);
    const ok = await setWatched(next);
    setSaving(false);
    if (ok) setText("");
  };

  return (
    <section className="card runs-watch-card" aria-labelledby="runs-watch-title" data-testid="runs-watch-panel">
      <header className="card-head">
        <h2 id="runs-watch-title">
          Watched features
          <span className="card-head-step">
            {watched.length}/{MAX_WATCHED} · {formatCount(totalPoints)} points
          </span>
        </h2>
        <div className="btn-group">
          <button
            type="button"
            className="btn btn-sm"
            data-testid="runs-clear-trajectories-btn"
            disabled={!run || totalPoints === 0}
            onClick={() => void clearTrajectories()}
            title="Forget every trajectory; the watch list stays"
          >
            Clear trajectories
          </button>
          <button
            type="button"
            className="btn btn-sm"
            data-testid="runs-export-btn"
            disabled={!run || Object.keys(own?.features ?? {}).length === 0}
            onClick={() => void exportTrajectories()}
            title="Download every trajectory and the similarity matrix as JSON"
          >
            <svg className="btn-glyph" viewBox="0 0 16 16" aria-hidden="true">
              <path d="M8 2.5v7.5M4.8 7 8 10.2 11.2 7M3 12.8h10" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" strokeLinejoin="round" />
            </svg>
            Export JSON
          </button>
        </div>
      </header>

      <div className="runs-watch-toolbar">
        <form className="runs-watch-form" onSubmit={(event) => void onSubmit(event)}>
          <label htmlFor="runs-watch-input" className="control-label">
            Watch
          </label>
          <input
            id="runs-watch-input"
            className={inputError ? "input mono runs-watch-input invalid" : "input mono runs-watch-input"}
            data-testid="runs-watch-input"
            placeholder={`feature ids, e.g. 0, 15, 31 (0..${dim - 1})`}
            value={text}
            disabled={!run || saving}
            aria-invalid={inputError !== null}
            aria-describedby={inputError ? "runs-watch-error" : undefined}
            onChange={(event) => {
              setText(event.target.value);
              setInputError(null);
            }}
          />
          <button type="submit" className="btn btn-sm btn-primary" data-testid="runs-watch-btn" disabled={!run || saving || text.trim() === ""}>
            {saving && <span className="spinner spinner-sm" aria-hidden="true" />}
            Add
          </button>
        </form>
        <ul className="runs-chips" data-testid="runs-watch-list" aria-label="Watched features">
          {watched.length === 0 && <li className="muted runs-chips-empty">Nothing watched yet — type ids, or click a point and press Watch.</li>}
          {watched.map((feature) => (
            <li key={feature} className="runs-chip" data-testid="runs-watch-chip" data-feature={feature}>
              <span className="runs-chip-swatch" style={{ background: featureColor(features, feature) }} />
              <span className="mono">{feature}</span>
              <button type="button" className="runs-chip-remove" aria-label={`Stop watching feature ${feature}`} title="Stop watching" onClick={() => void unwatchFeature(feature)}>
                <svg viewBox="0 0 20 20" aria-hidden="true">
                  <path d="M6 6l8 8M14 6l-8 8" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
                </svg>
              </button>
            </li>
          ))}
        </ul>
        {inputError && (
          <p className="runs-input-error" id="runs-watch-error" role="alert" data-testid="runs-watch-error">
            {inputError}
          </p>
        )}
      </div>

      <div className="runs-watch-body">
        <div className="runs-trajectory">
          <div className="runs-trajectory-head">
            <Segmented
              label="Trajectory metric"
              options={TRAJECTORY_METRICS.map((m) => ({ value: m.field, label: m.label, title: m.hint }))}
              value={metric}
              onChange={setTrajectoryMetric}
              testIdPrefix="runs-metric"
            />
            <span className="muted runs-trajectory-hint">{metricInfo.hint}</span>
          </div>
          <RunsLineChart
            lines={chartLines.filter((line) => line.length > 0)}
            height={280}
            testId="runs-trajectory-chart"
            data={{
              "data-points": lines.map((line) => line.count).join(","),
              "data-features": lines.map((line) => line.feature).join(","),
              "data-metric": metric,
            }}
            ariaLabel={`${metricInfo.label} of ${lines.length} features`}
            yFloor={metric === "weight_cos_to_init" ? undefined : 0}
            xTitle="step"
            yTitle={metricInfo.label}
            resetKey={run?.run_id ?? null}
            dots
            empty={
              <div className="runs-empty">
                <p className="empty-title">{watched.length ? "Waiting for a step…" : "No trajectories yet"}</p>
                <p className="empty-text">
                  {watched.length
                    ? "A point per step for each watched feature: Step while paused, or let it run."
                    : "Watch features to follow their weights, win rate and forces step by step."}
                </p>
              </div>
            }
          />
          {lines.length > 0 && (
            <ul className="runs-legend" aria-label="Lines">
              {lines.map((line) => (
                <li key={line.feature} className={line.watched ? "" : "unwatched"} data-testid="runs-trajectory-legend" data-feature={line.feature} data-points={line.count}>
                  <span className={line.watched ? "legend-swatch" : "legend-swatch dashed"} style={{ borderColor: line.color, background: line.watched ? line.color : "transparent" }} />
                  <span className="mono">{line.feature}</span>
                  <span className="muted mono">
                    {formatCount(line.count)} pts{line.count ? ` · ${formatValue(lastFinite(line.values))}` : ""}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </div>
        <SimilarityPanel matrix={matrix} features={features} />
      </div>
    </section>
  );
}

function lastFinite(values: readonly number[]): number | null {
  for (let i = values.length - 1; i >= 0; i--) if (Number.isFinite(values[i])) return values[i];
  return null;
}

type CosineScale = "signed" | "fixed";

const COSINE_SCALES: { id: CosineScale; label: string; title: string }[] = [
  { id: "signed", label: "−1…1", title: "Diverging −1..1: blue anti-aligned, white orthogonal, red aligned" },
  { id: "fixed", label: "0–1", title: "0..1 viridis (negative cosines draw as 0), as the scatter's colours" },
];

/** Pairwise cosine of the watched features' weights at the last recorded step. */
function SimilarityPanel({ matrix, features }: { matrix: SimilarityMatrix | null; features: number[] }) {
  const [hover, setHover] = useState<{ i: number; j: number } | null>(null);
  const [scale, setScale] = useState<CosineScale>("signed");
  const dark = useStore($darkScheme, { ssr: "initial" });
  const n = matrix?.features.length ?? 0;
  const cell = n <= 4 ? 48 : n <= 6 ? 40 : 32;
  const label = 30;
  const mean = matrix ? meanOffDiagonal(matrix) : Number.NaN;

  return (
    <div className="runs-similarity" data-testid="runs-similarity" data-size={n} data-scale={scale}>
      <div className="runs-similarity-head">
        <h3 className="side-title">Pairwise similarity</h3>
        <Segmented
          label="Colour scale"
          options={COSINE_SCALES.map((option) => ({ value: option.id, label: option.label, title: option.title }))}
          value={scale}
          onChange={setScale}
          testIdPrefix="runs-similarity-scale"
          small
        />
      </div>
      {!matrix ? (
        <p className="runs-similarity-empty muted">Cosine of the watched features' weights, after their first step.</p>
      ) : (
        <>
          <svg
            className="runs-similarity-svg"
            width={label + n * cell + 2}
            height={label + n * cell + 2}
            role="img"
            aria-label={`Cosine similarity of features ${matrix.features.join(", ")}`}
            data-testid="runs-similarity-matrix"
            onPointerLeave={() => setHover(null)}
          >
            {matrix.features.map((f, k) => (
              <g key={f}>
                <text className="sim-label" x={label - 6} y={label + k * cell + cell / 2} textAnchor="end" dominantBaseline="middle" fill={featureColor(features, f)}>
                  {f}
                </text>
                <text className="sim-label" x={label + k * cell + cell / 2} y={label - 8} textAnchor="middle" fill={featureColor(features, f)}>
                  {f}
                </text>
              </g>
            ))}
            {matrix.values.map((row, i) =>
              row.map((v, j) => {
                // Cosine as the inspector views draw it: diverging −1..1 by default, or 0..1 viridis.
                const color = cosineRgb(v, scale, dark);
                return (
                  <g key={`${i}-${j}`} onPointerEnter={() => setHover({ i, j })}>
                    <rect
                      className={hover && (hover.i === i || hover.j === j) ? "sim-cell lit" : "sim-cell"}
                      x={label + j * cell + 1}
                      y={label + i * cell + 1}
                      width={cell - 2}
                      height={cell - 2}
                      rx={3}
                      fill={rgb(color)}
                      data-testid="runs-similarity-cell"
                      data-value={v}
                    />
                    {cell >= 32 && (
                      <text className="sim-value" x={label + j * cell + cell / 2} y={label + i * cell + cell / 2} textAnchor="middle" dominantBaseline="central" fill={textOn(color)}>
                        {Number.isFinite(v) ? (i === j ? "1" : v.toFixed(3).replace(/^(-?)0\./, "$1.")) : "—"}
                      </text>
                    )}
                  </g>
                );
              }),
            )}
          </svg>
          <p className="runs-similarity-scale">
            <span className="mono">{scale === "signed" ? "−1" : "≤0"}</span>
            <span className="ramp" style={{ background: lutGradient(lutFor(scale === "signed" ? "diverging" : "viridis", dark)) }} />
            <span className="mono">1</span>
            <span className="muted">cosine</span>
          </p>
          <p className="runs-similarity-foot">
            {hover ? (
              <>
                <span className="mono">
                  {matrix.features[hover.i]} · {matrix.features[hover.j]}
                </span>{" "}
                cosine <strong className="mono">{formatValue(matrix.values[hover.i][hover.j])}</strong>
              </>
            ) : (
              <>
                mean off-diagonal <strong className="mono" data-testid="runs-similarity-mean">{formatValue(Number.isFinite(mean) ? mean : null)}</strong>
              </>
            )}
          </p>
        </>
      )}
    </div>
  );
}
