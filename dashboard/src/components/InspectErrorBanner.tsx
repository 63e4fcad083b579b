import { useStore } from "@nanostores/react";

import { formatClock } from "../lib/format";
import { $inspectError, dismissInspectError } from "../lib/inspect-store";

/** The last failed inspector call: what was being done, the trainer's answer, and its traceback. */
export default function InspectErrorBanner() {
  const error = useStore($inspectError, { ssr: "initial" });
  if (!error) return null;

  return (
    <div className="banner banner-error inspect-error" role="alert" data-testid="inspect-error">
      <svg className="banner-icon" viewBox="0 0 20 20" aria-hidden="true">
        <path
          fill="currentColor"
          d="M10 1.5a8.5 8.5 0 1 1 0 17 8.5 8.5 0 0 1 0-17Zm0 11.75a1.1 1.1 0 1 0 0 2.2 1.1 1.1 0 0 0 0-2.2ZM10 5a1 1 0 0 0-1 1v5a1 1 0 1 0 2 0V6a1 1 0 0 0-1-1Z"
        />
      </svg>
      <div className="banner-body">
        <p className="banner-title">{error.action} failed</p>
        <p className="banner-detail" data-testid="inspect-error-detail">
          {error.detail}
          <span className="banner-code">
            {error.status ? `HTTP ${error.status} · ` : ""}
            {error.code}
          </span>
        </p>
        {error.traceback && (
          <details className="banner-traceback">
            <summary>Traceback</summary>
            <pre data-testid="inspect-error-traceback">{error.traceback}</pre>
          </details>
        )}
        <p className="banner-meta">at {formatClock(error.at)}</p>
      </div>
      <button
        type="button"
        className="banner-dismiss"
        onClick={dismissInspectError}
        aria-label="Dismiss error"
        title="Dismiss"
        data-testid="inspect-error-dismiss"
      >
        <svg viewBox="0 0 20 20" aria-hidden="true">
          <path d="M5 5l10 10M15 5L5 15" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
        </svg>
      </button>
    </div>
  );
}
