import { useStore } from "@nanostores/react";
import type { ReactNode } from "react";

import { $now } from "../lib/clock-store";
import { formatAgo, formatClock, formatCount, formatPercent } from "../lib/format";
import { $trainerConnection, $trainerHealth, HEALTH_POLL_MS, type TrainerConnection } from "../lib/health-store";
import type { Health } from "../lib/health-types";

const STATUS_LABEL: Record<TrainerConnection, string> = {
  connecting: "Connecting",
  online: "Online",
  unreachable: "Unreachable",
  error: "Error",
};

/** The trainer's versions, device and data set, from `GET /api/health`. */
export default function HealthPanel() {
  // Hydration-safe (see RunsPage.tsx): the build rendered the stores' initial values.
  const { health, error, updatedAt } = useStore($trainerHealth, { ssr: "initial" });
  const connection = useStore($trainerConnection, { ssr: () => "connecting" as const });
  const stale = connection !== "online" && health !== null;

  return (
    <section
      className="card health-panel"
      data-testid="health-panel"
      data-state={connection}
      aria-labelledby="health-title"
      aria-busy={connection === "connecting"}
    >
      <header className="card-head">
        <h2 id="health-title">Trainer</h2>
        <span className={`status-pill status-${connection}`} data-testid="health-status">
          <span className="status-dot" aria-hidden="true" />
          {STATUS_LABEL[connection]}
        </span>
      </header>

      {connection === "error" && error && (
        <p className="notice notice-warn" role="status">
          The trainer answered <strong>HTTP {error.status}</strong> ({error.error}): {error.detail}
        </p>
      )}

      {health ? (
        <div className={stale ? "health-body stale" : "health-body"}>
          <HealthDetails health={health} />
        </div>
      ) : (
        <p className="health-empty">
          {connection === "connecting" ? "Asking the trainer…" : "No answer from the trainer yet."}
        </p>
      )}

      <footer className="card-foot">
        <UpdatedAt updatedAt={updatedAt} stale={stale} />
        <span className="muted">polled every {HEALTH_POLL_MS / 1000} s</span>
      </footer>
    </section>
  );
}

function HealthDetails({ health }: { health: Health }) {
  const { dataset } = health;
  const trainShare = dataset.size > 0 ? dataset.train_size / dataset.size : 0;

  return (
    <>
      <dl className="facts">
        <Fact label="Version">
          <span className="mono" data-testid="health-version">{health.version}</span>
        </Fact>
        <Fact label="PyTorch">
          <span className="mono" data-testid="health-torch-version">{health.torch_version}</span>
        </Fact>
        <Fact label="Python">
          <span className="mono" data-testid="health-python-version">{health.python_version}</span>
        </Fact>
        <Fact label="Device">
          <span className="mono" data-testid="health-device">{health.device}</span>
          <span className={health.cuda_available ? "tag tag-ok" : "tag"}>
            {health.cuda_available ? "CUDA available" : "no CUDA"}
          </span>
        </Fact>
        <Fact label="CPU threads">
          <span className="mono" data-testid="health-threads">{health.threads}</span>
        </Fact>
      </dl>

      <div className="dataset">
        <div className="dataset-head">
          <h3>Data set</h3>
          <span className="dataset-name" data-testid="health-dataset-name">{dataset.name}</span>
          <span className="tag mono" data-testid="health-dataset-source" title="source">
            {dataset.source}
          </span>
        </div>

        <div className="dataset-total">
          <span className="big-number" data-testid="health-dataset-size">{formatCount(dataset.size)}</span>
          <span className="muted">examples</span>
        </div>

        <div
          className="split-bar"
          role="img"
          aria-label={`${formatPercent(trainShare)} train, ${formatPercent(1 - trainShare)} eval`}
        >
          <span className="split-train" style={{ width: formatPercent(trainShare) }} />
        </div>
        <dl className="split-legend">
          <div>
            <dt>
              <span className="swatch swatch-train" aria-hidden="true" /> train
            </dt>
            <dd className="mono" data-testid="health-dataset-train">{formatCount(dataset.train_size)}</dd>
          </div>
          <div>
            <dt>
              <span className="swatch swatch-eval" aria-hidden="true" /> eval
            </dt>
            <dd className="mono" data-testid="health-dataset-eval">{formatCount(dataset.eval_size)}</dd>
          </div>
        </dl>

        {/* rtl + an ltr run: a long path is cut at its start, keeping the telling end visible */}
        <p className="dataset-location mono" title={dataset.location} data-testid="health-dataset-location">
          <bdi dir="ltr">{dataset.location}</bdi>
        </p>
      </div>
    </>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="fact">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function UpdatedAt({ updatedAt, stale }: { updatedAt: number | null; stale: boolean }) {
  const now = useStore($now);
  if (updatedAt === null) return <span className="muted">Never updated</span>;
  return (
    <span data-testid="health-updated" className={stale ? "stale-note" : undefined}>
      {stale ? "Last answer" : "Updated"} <time dateTime={new Date(updatedAt).toISOString()}>{formatClock(updatedAt)}</time>
      <span className="muted"> · {formatAgo(updatedAt, now)}</span>
    </span>
  );
}
