import { useStore } from "@nanostores/react";
import { useState } from "react";

import { formatBytes, formatCount, formatValue } from "../lib/format";
import { $run, $runStep } from "../lib/run-store";
import { $runFrame } from "../lib/runs-store";
import { frameScalar } from "../lib/tensor-frame";
import BatchGrid, { BatchPlaceholder, DigitCounts } from "./BatchGrid";

/** A frame without labels still lists every digit (at zero). */
const NO_LABELS: readonly number[] = [];

/**
 * The step taken with Step while paused: its batch grid, step number, loss and digits, and below
 * them the full data of the step in the inspector views.
 */
export default function RunsStepPanel() {
  const run = useStore($run, { ssr: () => null });
  const shown = useStore($runFrame, { ssr: "initial" });
  const latest = useStore($runStep, { ssr: () => 0 });
  const [digit, setDigit] = useState<number | null>(null);

  const frame = shown && run && shown.runId === run.run_id ? shown.frame : null;
  const labels = frame?.tensors.batch_labels?.data ?? null;
  const image = frame?.images.batch_images ?? null;
  const loss = frame ? frameScalar(frame, "loss") : null;
  const behind = frame !== null && latest > frame.step;

  return (
    <section className="card runs-step-card" aria-labelledby="runs-step-title" data-testid="runs-step-panel" data-step={frame?.step ?? ""}>
      <header className="card-head">
        <h2 id="runs-step-title">
          Stepped batch
          {frame && <span className="card-head-step">step {formatCount(frame.step)}</span>}
          {behind && (
            <span className="tag" title="The run has moved on since this step">
              run is at {formatCount(latest)}
            </span>
          )}
        </h2>
        <span className="muted card-head-meta">
          {frame && image ? (
            <>
              {image.count} images · frame {formatBytes(frame.byteLength)} ·{" "}
              <a href="#runs-step-views" data-testid="runs-views-link">
                every tensor of this step ↓
              </a>
            </>
          ) : (
            "Pause, then Step: one batch at a time"
          )}
        </span>
      </header>

      {!frame || !image ? (
        <div className="runs-step-empty">
          <BatchPlaceholder
            className="runs-batch-placeholder"
            testId="runs-batch-empty"
            title={emptyTitle(run?.status)}
            text={emptyText(run?.status)}
          />
        </div>
      ) : (
        <div className="batch-body runs-step-body">
            <div className="batch-main">
              <BatchGrid image={image} step={frame.step} labels={labels} digit={digit} initialWidth={760} testId="runs-batch-grid" />
            </div>
            <aside className="batch-side" aria-label="Step details">
              <div className="side-block">
                <h3 className="side-title">This step</h3>
                <dl className="runs-step-facts">
                  <div>
                    <dt>Step</dt>
                    <dd className="mono" data-testid="runs-stepped-step">
                      {formatCount(frame.step)}
                    </dd>
                  </div>
                  <div>
                    <dt>Loss</dt>
                    <dd className="mono" data-testid="runs-stepped-loss">
                      {formatValue(loss)}
                    </dd>
                  </div>
                  <div>
                    <dt>Condition</dt>
                    <dd className="mono">{frame.header.condition}</dd>
                  </div>
                </dl>
              </div>
              <DigitCounts labels={labels ?? NO_LABELS} digit={digit} onDigit={setDigit} testId="runs-label-counts" />
            </aside>
        </div>
      )}
    </section>
  );
}

function emptyTitle(status: string | undefined): string {
  if (status === "paused") return "Paused — press Step";
  if (status === "running") return "No stepped batch yet";
  if (status) return "The run has ended";
  return "No run yet";
}

function emptyText(status: string | undefined): string {
  if (status === "paused") return "Step advances exactly one batch and shows its images, loss and every tensor here.";
  if (status === "running") return "Pause the run, then Step through it one batch at a time; each step's batch and tensors open here.";
  if (status) return "Start a new run, pause it and Step through it to see each batch here.";
  return "Start a run, pause it, then Step: each batch and its tensors open here.";
}
