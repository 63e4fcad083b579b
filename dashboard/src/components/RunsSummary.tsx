import { useStore } from "@nanostores/react";

import { $now } from "../lib/clock-store";
import { formatCount, formatDelta, formatValue } from "../lib/format";
import { lastStep } from "../lib/runs/series";
import { rateTime, stepRate } from "../lib/runs/speed";
import { $run, $runState, $runStep } from "../lib/run-store";
import { $runFrame, $runSeries, $runStepSamples } from "../lib/runs-store";
import type { RunStateActive, RunStatus } from "../lib/runs-types";
import { frameScalar } from "../lib/tensor-frame";

const STATUS_TEXT: Record<RunStatus, string> = {
  running: "Running",
  paused: "Paused",
  completed: "Completed",
  stopped: "Stopped",
  failed: "Failed",
};

const STATUS_FOOT: Record<RunStatus, string> = {
  running: "training at full speed",
  paused: "waiting at the step boundary",
  completed: "every step asked for ran",
  stopped: "ended by Stop",
  failed: "ended by an error",
};

/** Status, step counter (with progress), latest loss and the run's identity, live. */
export default function RunsSummary() {
  const state = useStore($runState, { ssr: "initial" });
  const run = useStore($run, { ssr: () => null });
  const step = useStore($runStep, { ssr: () => 0 });
  const series = useStore($runSeries, { ssr: "initial" });
  const frame = useStore($runFrame, { ssr: "initial" });

  const own = run && series.runId === run.run_id ? series : null;
  // The loss of the newest step: the stream's, or the frame's when Step is ahead of the stream.
  const stepped = frame && run && frame.runId === run.run_id && frame.frame.step === step ? frameScalar(frame.frame, "loss") : null;
  const streamedLoss = own && own.length && lastStep(own) === step ? own.loss[own.length - 1] : null;
  const loss = stepped ?? streamedLoss ?? (own && own.length ? own.loss[own.length - 1] : null);
  const before = own && own.length > 1 ? own.loss[own.length - 2] : null;
  const delta = loss !== null && before !== null && Number.isFinite(loss) && Number.isFinite(before) ? loss - before : null;
  const progress = run ? Math.min(1, step / Math.max(1, run.steps)) : 0;

  const status = run?.status ?? null;
  const pausing = status === "paused" && run !== null && !run.blocked;

  return (
    <section className="card stat-strip runs-summary" aria-label="Run summary" data-testid="runs-summary">
      <div className="stat">
        <span className="stat-label">Status</span>
        <span className="stat-value">
          <span
            className={`run-status run-status-${status ?? "none"}`}
            data-testid="runs-status"
            data-status={status ?? (state === null ? "connecting" : "none")}
            data-blocked={run?.blocked ? "true" : "false"}
            role="status"
          >
            <span className="run-status-dot" aria-hidden="true" />
            {status ? (pausing ? "Pausing…" : STATUS_TEXT[status]) : state === null ? "Connecting…" : "No run yet"}
          </span>
        </span>
        <span className="stat-foot">{status ? (pausing ? "finishing the current step" : STATUS_FOOT[status]) : "start one above"}</span>
      </div>

      <div className="stat">
        <span className="stat-label">Step</span>
        <span className="stat-value">
          <span className="big-number" data-testid="runs-step-number" data-step={step}>
            {run ? formatCount(step) : "—"}
          </span>
          {run && <span className="stat-sub">of {formatCount(run.steps)}</span>}
        </span>
        <span className="run-progress" aria-hidden="true">
          <span className={`run-progress-fill run-progress-${status ?? "none"}`} style={{ width: `${progress * 100}%` }} />
        </span>
      </div>

      <div className="stat">
        <span className="stat-label" title="Reconstruction loss of the newest step">
          Loss
        </span>
        <span className="stat-value">
          <span className="big-number mono-num" data-testid="runs-loss" data-value={loss ?? ""}>
            {run && loss !== null ? formatValue(loss) : "—"}
          </span>
          {delta !== null && (
            <span className={delta <= 0 ? "delta delta-down" : "delta delta-up"} title="Change from the step before">
              {delta <= 0 ? "▼" : "▲"} {formatDelta(delta)}
            </span>
          )}
        </span>
        <span className="stat-foot">{run ? <Speed run={run} step={step} /> : "—"}</span>
      </div>

      <div className="stat">
        <span className="stat-label">Run</span>
        <span className="stat-value">
          <span className="stat-text" data-testid="runs-condition-shown">
            {run?.condition ?? "none"}
          </span>
          {run && (
            <span className="tag mono" title="run id">
              {run.run_id}
            </span>
          )}
        </span>
        <span className="stat-foot" data-testid="runs-meta">
          {run ? `seed ${run.seed} · D ${run.model_dim} · full tensors every ${formatCount(run.capture_every)}` : "—"}
        </span>
      </div>
    </section>
  );
}

/** Steps per second over the last few seconds while running; how long it ran once ended. */
function Speed({ run, step }: { run: RunStateActive; step: number }) {
  const now = useStore($now);
  const samples = useStore($runStepSamples);
  if (run.finished_at) {
    const seconds = Math.max(0, run.finished_at - run.started_at);
    return <>ran {formatSeconds(seconds)}</>;
  }
  if (run.status !== "running") return <>{formatCount(step)} steps so far</>;
  return <>{stepRate(samples, step, rateTime(samples, now), run.steps_per_second).toFixed(0)} steps/s</>;
}

function formatSeconds(seconds: number): string {
  return seconds < 90 ? `${seconds.toFixed(1)} s` : `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}
