import { useStore } from "@nanostores/react";

import { formatClock } from "../lib/format";
import { $trainerConnection, $trainerHealth, HEALTH_POLL_MS } from "../lib/health-store";

/** Red banner while /api cannot reach the trainer; gone as soon as it answers again. */
export default function TrainerBanner() {
  const connection = useStore($trainerConnection);
  const { error, checkedAt } = useStore($trainerHealth);
  if (connection !== "unreachable" || !error) return null;

  return (
    <div className="banner banner-error" role="alert" data-testid="trainer-banner">
      <svg className="banner-icon" viewBox="0 0 20 20" aria-hidden="true">
        <path
          fill="currentColor"
          d="M10 1.5a8.5 8.5 0 1 1 0 17 8.5 8.5 0 0 1 0-17Zm0 11.75a1.1 1.1 0 1 0 0 2.2 1.1 1.1 0 0 0 0-2.2ZM10 5a1 1 0 0 0-1 1v5a1 1 0 1 0 2 0V6a1 1 0 0 0-1-1Z"
        />
      </svg>
      <div className="banner-body">
        <p className="banner-title">
          Trainer not reachable at <code>/api</code> — start it with <code>./run_trainer.sh</code>
        </p>
        <p className="banner-detail" data-testid="trainer-banner-detail">
          {error.detail || error.message}
          <span className="banner-code">
            {error.status ? `HTTP ${error.status} · ` : ""}
            {error.error}
          </span>
        </p>
        <p className="banner-meta">
          Retrying every {HEALTH_POLL_MS / 1000} s
          {checkedAt !== null && <> · last attempt {formatClock(checkedAt)}</>}
        </p>
      </div>
    </div>
  );
}
