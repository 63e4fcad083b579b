import { useStore } from "@nanostores/react";

import { formatClock } from "../lib/format";
import { $trainerConnection, $trainerHealth, HEALTH_POLL_MS } from "../lib/health-store";
import { AlertBanner } from "./ErrorBanner";

/** Red banner while /api cannot reach the trainer; gone as soon as it answers again. */
export default function TrainerBanner() {
  const connection = useStore($trainerConnection);
  const { error, checkedAt } = useStore($trainerHealth);
  if (connection !== "unreachable" || !error) return null;

  return (
    <AlertBanner testId="trainer-banner">
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
    </AlertBanner>
  );
}
