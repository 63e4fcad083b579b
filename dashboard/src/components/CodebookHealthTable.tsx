import { useStore } from "@nanostores/react";

import { $codebookConfig, $codebookHealth, $codebookRunId } from "../lib/codebook-store";
import { isLowUtilisation, parseWarning, percent, ruleRows, warmupSteps, windowText } from "../lib/codebook/rules";
import type { CodebookHealth } from "../lib/codebook-types";
import { formatCount, formatValue } from "../lib/format";

/** The rules of the two error columns, beside `ruleRows` (the trainer's full text is in the
 * column headers' tooltips: `rules.codebook_drift`, `rules.quantisation_error`). */
function errorRuleRows(health: CodebookHealth) {
  const window = windowText(health);
  return [
    {
      metric: "Codebook drift",
      formula: "‖C_t − C_{t−1}‖_F / √(K·dim), C_t = the level's codebook after step t",
      window: `per step; shown: the last step, below it the mean over the ${window}`,
      threshold: "RMS move of one code coordinate in one step, in latent units; none at step 1",
    },
    {
      metric: "Quantisation error",
      formula: "mean over the batch's vectors z of min_k ‖z − c_k‖²",
      window: `per batch; shown: the mean over the ${window}, below it the last batch`,
      threshold:
        "squared latent units; z = the level's input: level 1 the encoder output, level l > 1 the residual left by levels 1..l−1",
    },
  ];
}

/** The trainer's codebook warnings (utilisation under 30%, dead codes rising) in one panel. */
export function CodebookWarnings() {
  const runId = useStore($codebookRunId, { ssr: () => null });
  const health = useStore($codebookHealth, { ssr: "initial" });
  if (!runId || !health || health.run_id !== runId || !health.warnings.length) return null;
  const warnings = health.warnings.map(parseWarning);
  // Low utilisation first: it is the one that says the codebook collapsed.
  const order = { utilisation: 0, dead: 1, other: 2 } as const;
  warnings.sort((a, b) => order[a.kind] - order[b.kind] || (a.level ?? 0) - (b.level ?? 0));
  return (
    <div className="cb-warnings" role="status" data-testid="codebook-warnings">
      <svg className="cb-warning-icon" viewBox="0 0 20 20" aria-hidden="true">
        <path
          fill="currentColor"
          d="M8.6 2.9a1.6 1.6 0 0 1 2.8 0l6.7 12.2A1.6 1.6 0 0 1 16.7 17.5H3.3a1.6 1.6 0 0 1-1.4-2.4ZM10 13.2a1.05 1.05 0 1 0 0 2.1 1.05 1.05 0 0 0 0-2.1ZM10 6.5a.95.95 0 0 0-.95.95v3.9a.95.95 0 1 0 1.9 0v-3.9A.95.95 0 0 0 10 6.5Z"
        />
      </svg>
      <div className="cb-warnings-body">
        <p className="cb-warnings-title">
          {warnings.length} codebook warning{warnings.length === 1 ? "" : "s"} at step {formatCount(health.step)}
        </p>
        <ul>
          {warnings.map((warning) => (
            <li
              key={warning.text}
              className={`cb-warning cb-warning-${warning.kind}`}
              data-testid="codebook-warning"
              data-kind={warning.kind}
              data-level={warning.level ?? ""}
            >
              {warning.level !== null && <span className="cb-level-chip">L{warning.level}</span>}
              <span>{warning.level !== null ? warning.text.replace(/^level \d+:\s*/, "") : warning.text}</span>
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}

/** A header's tooltip: the trainer's rule of the metric, and of the figure shown when it is
 * another one (the window mean). */
function shownRule(health: CodebookHealth, metric: string, shown?: string): string | undefined {
  const rule = health.rules[metric];
  const other = shown ? health.rules[shown] : undefined;
  return rule && other ? `${rule}. Shown: ${other}` : rule;
}

/** One row per level: utilisation, perplexity (window and batch), dead codes, codebook drift,
 * quantisation error, validation usage; with the rules. */
export default function CodebookHealthTable() {
  const runId = useStore($codebookRunId, { ssr: () => null });
  const health = useStore($codebookHealth, { ssr: "initial" });
  const config = useStore($codebookConfig, { ssr: "initial" });
  const own = runId && health && health.run_id === runId ? health : null;
  const codes = own?.levels[0]?.counts.length ?? (config && runId && config.runId === runId ? config.config.num_codes : null);

  return (
    <section className="card cb-health" aria-labelledby="cb-health-title">
      <header className="card-head">
        <h2 id="cb-health-title">
          Codebook health
          {own && <span className="card-head-step">step {formatCount(own.step)}</span>}
        </h2>
        {own && (
          <span className="cb-head-note" data-testid="codebook-health-window">
            window: {windowText(own)} · K = {codes} codes per level
          </span>
        )}
      </header>
      {!own ? (
        <div className="cb-empty" data-testid="codebook-health-empty">
          <p className="empty-title">{runId ? "Waiting for the first steps…" : "No VQ-VAE run yet"}</p>
          <p className="empty-text">Per-level utilisation, perplexity, dead codes, drift and quantisation error appear here as the run trains.</p>
        </div>
      ) : (
        <>
          <div className="cb-table-wrap">
            <table className="cb-table cb-health-table" data-testid="codebook-health-table">
              <thead>
                <tr>
                  <th scope="col">Level</th>
                  <th scope="col" title={own.rules.utilisation}>
                    Utilisation
                  </th>
                  <th scope="col" className="num" title={own.rules.perplexity}>
                    Perplexity
                  </th>
                  <th scope="col" className="num" title={own.rules.normalised_perplexity}>
                    Normalised
                  </th>
                  <th scope="col" className="num" title="Perplexity of the last batch alone">
                    Batch perplexity
                  </th>
                  <th scope="col" className="num" title={own.rules.dead_codes}>
                    Dead codes
                  </th>
                  <th scope="col" className="num" title={shownRule(own, "codebook_drift")} data-testid="codebook-health-drift-head">
                    Drift
                    <span className="cb-th-note">last step · latent units</span>
                  </th>
                  <th scope="col" className="num" title={shownRule(own, "quantisation_error", "quantisation_error_mean")} data-testid="codebook-health-qerror-head">
                    Quantisation error
                    <span className="cb-th-note">window mean · latent units²</span>
                  </th>
                  <th scope="col" className="num" title="Utilisation of the validation pass (512 held-out images, every 50 steps)">
                    Validation utilisation
                  </th>
                </tr>
              </thead>
              <tbody>
                {own.levels.map((level) => {
                  const low = isLowUtilisation(level, own);
                  const val = own.validation?.usage[level.level - 1];
                  return (
                    <tr
                      key={level.level}
                      className={low ? "low" : undefined}
                      data-testid="codebook-health-row"
                      data-level={level.level}
                      data-utilisation={level.utilisation}
                    >
                      <th scope="row">
                        <span className="cb-level-chip">L{level.level}</span>
                      </th>
                      <td>
                        <span className="cb-util">
                          <span className="cb-util-track" aria-hidden="true">
                            <span className="cb-util-fill" style={{ width: `${Math.min(100, level.utilisation * 100)}%` }} />
                            <span className="cb-util-threshold" style={{ left: `${own.low_utilisation * 100}%` }} />
                          </span>
                          <strong className="mono" data-testid="codebook-health-utilisation">
                            {percent(level.utilisation)}
                          </strong>
                          {low && <span className="tag cb-tag-warn">below {percent(own.low_utilisation)}</span>}
                        </span>
                        <span className="cb-sub" data-testid="codebook-health-used">
                          {formatCount(Math.round(level.utilisation * level.counts.length))} of {formatCount(level.counts.length)} codes used at least once in the{" "}
                          {windowText(own)}
                        </span>
                      </td>
                      <td className="num mono">
                        {level.perplexity.toFixed(1)}
                        <span className="cb-sub"> / {level.counts.length}</span>
                      </td>
                      <td className="num mono">{level.normalised_perplexity.toFixed(3)}</td>
                      <td className="num mono">{level.batch_perplexity.toFixed(1)}</td>
                      <td className="num mono">
                        {formatCount(level.dead_codes)}
                        {level.dead_rising && (
                          <span className="cb-rising" title="More dead codes than one window ago">
                            ▲ rising
                          </span>
                        )}
                        <span className="cb-sub cb-sub-rule" data-testid="codebook-health-dead-rule">
                          used &lt; {percent(own.dead_fraction)} of a uniform share, {windowText(own)}
                        </span>
                      </td>
                      <td className="num mono" data-testid="codebook-health-drift" data-value={level.codebook_drift ?? ""}>
                        {formatValue(level.codebook_drift)}
                        <span className="cb-sub cb-sub-line">window mean {formatValue(level.codebook_drift_mean)}</span>
                      </td>
                      <td className="num mono" data-testid="codebook-health-qerror" data-value={level.quantisation_error_mean ?? ""}>
                        {formatValue(level.quantisation_error_mean)}
                        <span className="cb-sub cb-sub-line">last batch {formatValue(level.quantisation_error)}</span>
                      </td>
                      <td className="num mono">
                        {val === undefined ? "—" : percent(val)}
                        {own.validation && <span className="cb-sub"> step {formatCount(own.validation.step)}</span>}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <dl className="cb-rules" data-testid="codebook-rules">
            {[...ruleRows(own), ...errorRuleRows(own)].map((rule) => (
              <div key={rule.metric} className="cb-rule">
                <dt>{rule.metric}</dt>
                <dd>
                  <code>{rule.formula}</code>
                  <span className="cb-rule-meta">
                    {rule.window} · {rule.threshold}
                  </span>
                </dd>
              </div>
            ))}
            <p className="cb-rules-foot">
              K codes per level, n_k = how often code k was picked in the window, N = Σ n_k. Warnings: utilisation under{" "}
              {percent(own.low_utilisation)} (from step {warmupSteps(own)}) and any level whose dead-code count rose over the window.
            </p>
          </dl>
        </>
      )}
    </section>
  );
}
