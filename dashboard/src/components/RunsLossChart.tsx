import { useStore } from "@nanostores/react";
import { useMemo, useState } from "react";

import { formatCount } from "../lib/format";
import { $run, $runSeries } from "../lib/runs-store";
import RunsLineChart, { type ChartLine } from "./RunsLineChart";

type Metric = "loss" | "cosine";

const METRICS: { id: Metric; label: string; title: string }[] = [
  { id: "loss", label: "Loss", title: "Reconstruction loss of every step" },
  { id: "cosine", label: "Weight cosine", title: "Mean off-diagonal cosine of the encoder weights" },
];

/** The loss (or mean weight cosine) of every step so far, fed live by the event stream. */
export default function RunsLossChart() {
  const run = useStore($run, { ssr: () => null });
  const series = useStore($runSeries, { ssr: "initial" });
  const [metric, setMetric] = useState<Metric>("loss");

  const own = run && series.runId === run.run_id ? series : null;
  const count = own?.length ?? 0;
  const lines = useMemo<ChartLine[]>(
    () =>
      own && own.length
        ? [
            {
              id: metric,
              label: metric === "loss" ? "loss" : "weight cosine",
              color: "var(--accent)",
              xs: own.steps,
              ys: metric === "loss" ? own.loss : own.cosine,
              length: own.length,
              testId: "runs-loss-line",
            },
          ]
        : [],
    [own, metric],
  );

  return (
    <section className="card runs-loss-card" aria-labelledby="runs-loss-title">
      <header className="card-head">
        <h2 id="runs-loss-title">
          {metric === "loss" ? "Loss" : "Mean weight cosine"}
          <span className="card-head-step" data-testid="runs-loss-count">
            {count ? `${formatCount(count)} steps` : ""}
          </span>
        </h2>
        <div className="segmented" role="group" aria-label="Metric">
          {METRICS.map((m) => (
            <button
              key={m.id}
              type="button"
              className={m.id === metric ? "segmented-btn active" : "segmented-btn"}
              aria-pressed={m.id === metric}
              title={m.title}
              data-testid={`runs-loss-metric-${m.id}`}
              onClick={() => setMetric(m.id)}
            >
              {m.label}
            </button>
          ))}
        </div>
      </header>
      <div className="runs-loss-body">
        <RunsLineChart
          lines={lines}
          height={296}
          testId="runs-loss-chart"
          data={{ "data-points": String(count), "data-metric": metric }}
          ariaLabel={`${metric === "loss" ? "Loss" : "Mean weight cosine"} over ${count} steps`}
          yFloor={metric === "loss" ? 0 : undefined}
          empty={
            <div className="runs-empty">
              <svg className="empty-icon" viewBox="0 0 24 24" aria-hidden="true">
                <path d="M3 17l5-6 4 4 8-10" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" strokeLinejoin="round" />
                <path d="M3 21h18" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" />
              </svg>
              <p className="empty-title">{run ? "Waiting for the first step…" : "No run yet"}</p>
              <p className="empty-text">{run ? "Steps stream in as the run trains." : "Start a run above; its loss streams in here live."}</p>
            </div>
          }
        />
      </div>
    </section>
  );
}
