import { useStore } from "@nanostores/react";
import { useMemo, useState } from "react";

import { formatCount } from "../lib/format";
import { emaSmooth } from "../lib/runs/line";
import { $run } from "../lib/run-store";
import { $runSeries } from "../lib/runs-store";
import { Segmented, SmoothingSlider } from "./ChartControls";
import { useBranchLines } from "./BranchOverlay";
import RunsLineChart, { type ChartLine } from "./RunsLineChart";

type Metric = "loss" | "cosine";

const METRICS: { id: Metric; label: string; title: string; axis: string }[] = [
  { id: "loss", label: "Loss", title: "Reconstruction loss of every step", axis: "loss" },
  { id: "cosine", label: "Weight cosine", title: "Mean off-diagonal cosine of the encoder weights", axis: "mean weight cosine" },
];

/**
 * The loss (or mean weight cosine) of every step so far, fed live by the event stream: on a linear
 * or log axis, smoothed by an exponential moving average (the raw curve stays behind it, faint),
 * zoomable to a range of steps.
 */
export default function RunsLossChart() {
  const run = useStore($run, { ssr: () => null });
  const series = useStore($runSeries, { ssr: "initial" });
  const [metric, setMetric] = useState<Metric>("loss");
  const [log, setLog] = useState(false);
  const [smoothing, setSmoothing] = useState(0);

  const own = run && series.runId === run.run_id ? series : null;
  const count = own?.length ?? 0;
  const info = METRICS.find((m) => m.id === metric)!;
  const values = own ? (metric === "loss" ? own.loss : own.cosine) : null;
  // Smoothing a million steps is a few milliseconds; it reruns when steps arrive or the slider moves.
  const smoothed = useMemo(() => (own && values && smoothing > 0 ? emaSmooth(values, own.length, smoothing) : null), [own, values, smoothing]);
  const branches = useBranchLines("run", metric === "loss");
  const lines = useMemo<ChartLine[]>(() => {
    if (!own || !own.length || !values) return [];
    const raw: ChartLine = {
      id: metric,
      label: smoothed ? `${info.axis} (raw)` : info.axis,
      color: "var(--accent)",
      xs: own.steps,
      ys: values,
      length: own.length,
      testId: "runs-loss-line",
      faint: smoothed !== null,
    };
    if (!smoothed) return [...branches, raw];
    return [
      ...branches,
      raw,
      {
        id: `${metric}-smoothed`,
        label: `${info.axis} (smoothed)`,
        color: "var(--accent)",
        xs: own.steps,
        ys: smoothed,
        length: own.length,
        testId: "runs-loss-smoothed",
        data: { "data-smoothing": String(smoothing) },
      },
    ];
  }, [own, values, smoothed, metric, info.axis, smoothing, branches]);
  // A log axis has no place for the cosine's negative values; the loss is what it is for.
  const logShown = log && metric === "loss";

  return (
    <section className="card runs-loss-card" aria-labelledby="runs-loss-title">
      <header className="card-head">
        <h2 id="runs-loss-title">
          {metric === "loss" ? "Loss" : "Mean weight cosine"}
          <span className="card-head-step" data-testid="runs-loss-count">
            {count ? `${formatCount(count)} steps` : ""}
          </span>
        </h2>
        <div className="runs-head-tools">
          <SmoothingSlider
            value={smoothing}
            onChange={setSmoothing}
            testId="runs-loss-smoothing"
            title="Exponential moving average of the curve; the raw curve stays behind it, faint"
          />
          <Segmented
            label="Y axis"
            options={[
              { value: "linear", label: "linear", title: "Linear y axis" },
              {
                value: "log",
                label: "log",
                title: metric === "loss" ? "Log y axis: the late, small changes of the loss show" : "Only the loss has a log axis",
                disabled: metric !== "loss",
              },
            ]}
            value={logShown ? "log" : "linear"}
            onChange={(kind) => setLog(kind === "log")}
            testIdPrefix="runs-loss-scale"
          />
          <Segmented
            label="Metric"
            options={METRICS.map((m) => ({ value: m.id, label: m.label, title: m.title }))}
            value={metric}
            onChange={setMetric}
            testIdPrefix="runs-loss-metric"
          />
        </div>
      </header>
      <div className="runs-loss-body">
        <RunsLineChart
          lines={lines}
          height={316}
          testId="runs-loss-chart"
          data={{ "data-points": String(count), "data-metric": metric, "data-smoothing": String(smoothing) }}
          ariaLabel={`${metric === "loss" ? "Loss" : "Mean weight cosine"} over ${count} steps`}
          yFloor={metric === "loss" ? 0 : undefined}
          log={logShown}
          xTitle="step"
          yTitle={info.axis}
          resetKey={run?.run_id ?? null}
          events={run?.events}
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
