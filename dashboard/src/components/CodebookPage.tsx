import { useStore } from "@nanostores/react";

import { $codebookError, $codebookRun, dismissCodebookError } from "../lib/codebook-store";
import { formatClock } from "../lib/format";
import CodebookControls from "./CodebookControls";
import CodebookDecoded from "./CodebookDecoded";
import CodebookDynamics from "./CodebookDynamics";
import CodebookEvents from "./CodebookEvents";
import CodebookHealthTable, { CodebookWarnings } from "./CodebookHealthTable";
import CodebookLossChart from "./CodebookLossChart";
import CodebookUsage from "./CodebookUsage";

/**
 * The codebook page's views, one island (separate islands sharing stores hydrate out of step,
 * React error #418). Every view reads the stores with `ssr: "initial"` (or a fixed value for
 * computed ones): the static HTML was rendered from the stores' initial values, and
 * codebook-store.ts opens the event stream as soon as a view first reads it, so hydration must
 * see those initial values too.
 */
export default function CodebookPage() {
  return (
    <div className="cb-page">
      <CodebookErrorBanner />
      <CodebookControls />
      <CodebookFailure />
      <CodebookWarnings />
      <CodebookHealthTable />
      <div className="cb-row cb-row-loss">
        <CodebookLossChart />
        <CodebookEvents />
      </div>
      <CodebookUsage />
      <CodebookDynamics />
      <CodebookDecoded />
    </div>
  );
}

function ErrorIcon() {
  return (
    <svg className="banner-icon" viewBox="0 0 20 20" aria-hidden="true">
      <path
        fill="currentColor"
        d="M10 1.5a8.5 8.5 0 1 1 0 17 8.5 8.5 0 0 1 0-17Zm0 11.75a1.1 1.1 0 1 0 0 2.2 1.1 1.1 0 0 0 0-2.2ZM10 5a1 1 0 0 0-1 1v5a1 1 0 1 0 2 0V6a1 1 0 0 0-1-1Z"
      />
    </svg>
  );
}

/** The last failed call and the trainer's answer (a 409 names who holds the model). */
function CodebookErrorBanner() {
  const error = useStore($codebookError, { ssr: "initial" });
  if (!error) return null;
  return (
    <div className="banner banner-error" role="alert" data-testid="codebook-error" data-status={error.status} data-code={error.code}>
      <ErrorIcon />
      <div className="banner-body">
        <p className="banner-title">
          {error.action} failed{error.status === 409 ? ": the model is busy" : ""}
        </p>
        <p className="banner-detail">
          {error.detail}
          <span className="banner-code">
            {error.status ? `HTTP ${error.status} · ` : ""}
            {error.code}
          </span>
        </p>
        {error.traceback && (
          <details className="banner-traceback">
            <summary>Traceback</summary>
            <pre>{error.traceback}</pre>
          </details>
        )}
        <p className="banner-meta">at {formatClock(error.at)}</p>
      </div>
      <button type="button" className="banner-dismiss" onClick={dismissCodebookError} aria-label="Dismiss error" title="Dismiss">
        <svg viewBox="0 0 20 20" aria-hidden="true">
          <path d="M5 5l10 10M15 5L5 15" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
        </svg>
      </button>
    </div>
  );
}

/** A run that ended with an error: its message and traceback stay until the next run. */
function CodebookFailure() {
  const run = useStore($codebookRun, { ssr: () => null });
  if (!run || run.status !== "failed") return null;
  return (
    <div className="banner banner-error" role="alert" data-testid="codebook-run-failed">
      <ErrorIcon />
      <div className="banner-body">
        <p className="banner-title">The run failed at step {run.step}</p>
        <p className="banner-detail">{run.error}</p>
        {run.traceback && (
          <details className="banner-traceback">
            <summary>Traceback</summary>
            <pre>{run.traceback}</pre>
          </details>
        )}
      </div>
    </div>
  );
}
