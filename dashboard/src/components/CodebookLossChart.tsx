import { useStore } from "@nanostores/react";
import { useMemo, useState } from "react";

import { $codebookConfig, $codebookEvents, $codebookRunId, $codebookSeries } from "../lib/codebook-store";
import { eventsByStep, lossLines } from "../lib/codebook/series";
import { formatCount, formatValue } from "../lib/format";
import { $run } from "../lib/run-store";
import { describeEvent } from "../lib/step-events";
import CodebookLineChart, { type StepMark } from "./CodebookLineChart";

/** Train, validation and commitment loss (green, dashed) of every step; revivals marked on the timeline. */
export default function CodebookLossChart() {
  const runId = useStore($codebookRunId, { ssr: () => null });
  const series = useStore($codebookSeries, { ssr: "initial" });
  const config = useStore($codebookConfig, { ssr: "initial" });
  const events = useStore($codebookEvents, { ssr: "initial" });
  const run = useStore($run, { ssr: () => null });
  const [log, setLog] = useState(true);

  const own = runId && series.runId === runId ? series : null;
  const runConfig = config && runId && config.runId === runId ? config.config : null;
  const withWasserstein = (runConfig?.wasserstein_weight ?? 0) > 0;
  const lines = useMemo(() => (own ? lossLines(own, withWasserstein) : []), [own, withWasserstein]);
  const ownEvents = events && runId && events.runId === runId ? events : null;
  // The run's live edits and breakpoints (step events) beside the codebook's own revivals.
  const stepEvents = run && run.run_id === runId ? run.events : undefined;
  const marks = useMemo<StepMark[]>(
    () => [
      ...(ownEvents
        ? eventsByStep(ownEvents.events).map((e) => ({
            step: e.step,
            label: `${e.count} dead code${e.count === 1 ? "" : "s"} replaced (level ${e.levels.join(", ")})`,
          }))
        : []),
      ...(stepEvents ?? []).map((e) => ({ step: e.step, label: describeEvent(e) })),
    ],
    [ownEvents, stepEvents],
  );
  const latest = own && own.steps.length ? own.steps.length - 1 : -1;

  return (
    <section className="card cb-loss" aria-labelledby="cb-loss-title">
      <header className="card-head">
        <h2 id="cb-loss-title">
          Loss
          <span className="card-head-step">{own?.steps.length ? `${formatCount(own.steps.length)} steps` : ""}</span>
        </h2>
        <div className="cb-segmented small" role="group" aria-label="Y axis">
          {[
            { id: true, label: "Log" },
            { id: false, label: "Linear" },
          ].map((option) => (
            <button
              key={option.label}
              type="button"
              className={log === option.id ? "cb-segmented-btn active" : "cb-segmented-btn"}
              aria-pressed={log === option.id}
              onClick={() => setLog(option.id)}
            >
              {option.label}
            </button>
          ))}
        </div>
      </header>
      <div className="cb-legend">
        <span>
          <span className="cb-swatch" style={{ color: "var(--cb-train)" }} />
          train loss (reconstruction + VQ{withWasserstein ? " + Sinkhorn" : ""})
        </span>
        <span>
          <span className="cb-swatch dot" style={{ color: "var(--cb-val)" }} />
          validation loss (512 held-out images, every 50 steps)
        </span>
        <span>
          <span className="cb-swatch dashed" style={{ color: "var(--cb-commit)" }} />
          commitment loss
        </span>
        {withWasserstein && (
          <span>
            <span className="cb-swatch dashed" style={{ color: "var(--cb-wass)" }} />
            Sinkhorn loss (unweighted)
          </span>
        )}
        {ownEvents?.revive && (
          <span>
            <span className="cb-swatch mark" aria-hidden="true">
              ▲
            </span>
            dead-code replacement
          </span>
        )}
      </div>
      <CodebookLineChart
        lines={lines}
        height={280}
        log={log}
        marks={marks}
        markLabel="▲"
        testId="codebook-loss-chart"
        ariaLabel={`Loss over ${own?.steps.length ?? 0} steps`}
        empty={
          <div className="cb-empty">
            <p className="empty-title">{runId ? "Waiting for the first step…" : "No VQ-VAE run yet"}</p>
            <p className="empty-text">Start a run above; its losses stream in here.</p>
          </div>
        }
      />
      {own && latest >= 0 && (
        <footer className="card-foot cb-loss-foot">
          <span>
            step {formatCount(own.steps[latest])}: train <strong className="mono">{formatValue(own.scalars.loss[latest])}</strong> · reconstruction{" "}
            <strong className="mono">{formatValue(own.scalars.reconstruction[latest])}</strong> · commitment{" "}
            <strong className="mono">{formatValue(own.scalars.commitment[latest])}</strong>
            {runConfig?.kind === "learned" && (
              <>
                {" "}
                · codebook <strong className="mono">{formatValue(own.scalars.codebook[latest])}</strong>
              </>
            )}
          </span>
          {own.validation.length > 0 && (
            <span>
              validation (step {formatCount(own.validation[own.validation.length - 1].step)}):{" "}
              <strong className="mono">{formatValue(own.validation[own.validation.length - 1].loss)}</strong>
            </span>
          )}
        </footer>
      )}
    </section>
  );
}
