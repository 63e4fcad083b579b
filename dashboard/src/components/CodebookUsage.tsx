import { useStore } from "@nanostores/react";
import { useMemo, useState } from "react";

import { $codebookHealth, $codebookRunId, $codebookSeries } from "../lib/codebook-store";
import { deadMask, rankOrder, shares, utilisation } from "../lib/codebook/histogram";
import { percent, windowText } from "../lib/codebook/rules";
import { usageLines } from "../lib/codebook/series";
import { formatCount } from "../lib/format";
import { PERCENT } from "../lib/ticks";
import CodebookBars from "./CodebookBars";
import CodebookLineChart from "./CodebookLineChart";

const sharePercent = (v: number) => percent(v, 2);

/**
 * The usage histogram of every level: the training window's share per code (left) beside the
 * latest validation pass's (right), on one scale; and train vs validation utilisation over time.
 */
export default function CodebookUsage() {
  const runId = useStore($codebookRunId, { ssr: () => null });
  const health = useStore($codebookHealth, { ssr: "initial" });
  const series = useStore($codebookSeries, { ssr: "initial" });
  const [byRank, setByRank] = useState(false);
  const [overTimeLevel, setOverTimeLevel] = useState(0);

  const own = runId && health && health.run_id === runId ? health : null;
  const ownSeries = runId && series.runId === runId ? series : null;
  const levels = useMemo(
    () =>
      own
        ? own.levels.map((level) => {
            const train = shares(level.counts);
            const valCounts = own.validation?.counts[level.level - 1] ?? null;
            const val = valCounts ? shares(valCounts) : null;
            const order = byRank ? rankOrder(level.counts) : undefined;
            const yMax = Math.max(...train, ...(val ?? [0]));
            return {
              level,
              train,
              trainDead: deadMask(level.counts, own.dead_fraction),
              val,
              valDead: valCounts ? deadMask(valCounts, own.dead_fraction) : null,
              valUtilisation: valCounts ? utilisation(valCounts) : null,
              order,
              yMax,
            };
          })
        : [],
    [own, byRank],
  );
  const level = Math.min(overTimeLevel, Math.max(0, levels.length - 1));
  const lines = useMemo(() => (ownSeries ? usageLines(ownSeries, level) : []), [ownSeries, level]);

  return (
    <section className="card cb-usage" aria-labelledby="cb-usage-title" data-testid="codebook-usage">
      <header className="card-head">
        <h2 id="cb-usage-title">Code usage: train vs validation</h2>
        <div className="cb-segmented small" role="group" aria-label="Bar order">
          {[
            { id: false, label: "By code" },
            { id: true, label: "By rank" },
          ].map((option) => (
            <button
              key={option.label}
              type="button"
              className={byRank === option.id ? "cb-segmented-btn active" : "cb-segmented-btn"}
              aria-pressed={byRank === option.id}
              data-testid={`codebook-usage-${option.id ? "rank" : "code"}`}
              onClick={() => setByRank(option.id)}
            >
              {option.label}
            </button>
          ))}
        </div>
      </header>
      {!own ? (
        <div className="cb-empty">
          <p className="empty-title">{runId ? "Waiting for the first steps…" : "No VQ-VAE run yet"}</p>
          <p className="empty-text">Each level's usage histogram, training window beside validation, appears here.</p>
        </div>
      ) : (
        <>
          <p className="cb-section-note">
            Share of the vectors that picked each code, p_k = n_k / N. <strong>Train</strong>: the {own.batches_in_window} batches of the
            window (N = {formatCount(own.levels[0]?.counts.reduce((a, b) => a + b, 0) ?? 0)} vectors per level).{" "}
            <strong>Validation</strong>: 512 held-out images at step {own.validation ? formatCount(own.validation.step) : "—"} (
            {formatCount(512 * 49)} vectors). Grey ticks under the axis mark dead codes (under {percent(own.dead_fraction)} of a uniform
            share). {byRank ? "Both are ordered by training use, so the validation bars line up with the same codes." : ""}
          </p>
          <div className="cb-usage-grid">
            <span className="cb-usage-colhead" />
            <span className="cb-usage-colhead">Train (window)</span>
            <span className="cb-usage-colhead">Validation</span>
            {levels.map((row) => (
              <div className="cb-usage-row" key={row.level.level} data-testid="codebook-usage-row" data-level={row.level.level}>
                <div className="cb-usage-label">
                  <span className="cb-level-chip">L{row.level.level}</span>
                  <dl>
                    <div title={`Share of the codes used at least once in the ${windowText(own)} (training)`}>
                      <dt>used (window)</dt>
                      <dd className="mono">{percent(row.level.utilisation)}</dd>
                    </div>
                    <div title="Share of the codes used at least once in the latest validation pass">
                      <dt>used (val)</dt>
                      <dd className="mono">{row.valUtilisation === null ? "—" : percent(row.valUtilisation)}</dd>
                    </div>
                    <div title={`Codes used less than ${percent(own.dead_fraction)} of a uniform share in the ${windowText(own)}: a code used a few times is used, and still dead`}>
                      <dt>dead (window)</dt>
                      <dd className="mono">{row.level.dead_codes}</dd>
                    </div>
                  </dl>
                </div>
                <CodebookBars
                  values={row.train}
                  dead={row.trainDead}
                  order={row.order}
                  byRank={byRank}
                  height={118}
                  color="var(--cb-train)"
                  yMax={row.yMax}
                  format={sharePercent}
                  tickFormat={PERCENT}
                  valueLabel="share"
                  testId="codebook-usage-train"
                  ariaLabel={`Level ${row.level.level} training usage histogram`}
                  data={{ "data-level": String(row.level.level) }}
                />
                {row.val && row.valDead ? (
                  <CodebookBars
                    values={row.val}
                    dead={row.valDead}
                    order={row.order}
                    byRank={byRank}
                    height={118}
                    color="var(--cb-val)"
                    yMax={row.yMax}
                    format={sharePercent}
                    tickFormat={PERCENT}
                    valueLabel="share"
                    testId="codebook-usage-val"
                    ariaLabel={`Level ${row.level.level} validation usage histogram`}
                    data={{ "data-level": String(row.level.level) }}
                  />
                ) : (
                  <div className="cb-empty small">no validation pass yet</div>
                )}
              </div>
            ))}
          </div>
          <div className="cb-usage-time">
            <div className="cb-usage-time-head">
              <h3>Utilisation over time</h3>
              <div className="cb-segmented small" role="group" aria-label="Level">
                {levels.map((row, i) => (
                  <button
                    key={row.level.level}
                    type="button"
                    className={i === level ? "cb-segmented-btn active" : "cb-segmented-btn"}
                    aria-pressed={i === level}
                    onClick={() => setOverTimeLevel(i)}
                  >
                    L{row.level.level}
                  </button>
                ))}
              </div>
              <span className="cb-legend inline">
                <span>
                  <span className="cb-swatch" style={{ color: "var(--cb-train)" }} />
                  train, share of codes used in each batch
                </span>
                <span>
                  <span className="cb-swatch dot" style={{ color: "var(--cb-val)" }} />
                  validation pass
                </span>
              </span>
            </div>
            <CodebookLineChart
              lines={lines}
              height={170}
              yDomain={[0, 1]}
              formatY={(v) => percent(v)}
              tickFormat={PERCENT}
              testId="codebook-usage-chart"
              ariaLabel={`Level ${level + 1} utilisation over time`}
              empty={<p className="empty-text">no steps yet</p>}
            />
          </div>
        </>
      )}
    </section>
  );
}
