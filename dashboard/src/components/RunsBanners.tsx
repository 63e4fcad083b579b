import { useStore } from "@nanostores/react";
import { useState } from "react";

import { formatClock, formatCount } from "../lib/format";
import { $run, $runError, $runFrame, dismissRunError, showRunStep } from "../lib/runs-store";
import FirstNonFiniteBadge from "./FirstNonFiniteBadge";

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

/** The last failed call: what was being done and the trainer's answer (409 names the model's owner). */
export function RunsErrorBanner() {
  const error = useStore($runError, { ssr: "initial" });
  if (!error) return null;
  const ownedByInspector = error.status === 409 && /inspector/i.test(error.detail);

  return (
    <div className="banner banner-error runs-banner" role="alert" data-testid="runs-error" data-status={error.status} data-code={error.code}>
      <ErrorIcon />
      <div className="banner-body">
        <p className="banner-title">
          {error.action} failed{error.status === 409 ? ": the model is busy" : ""}
        </p>
        <p className="banner-detail" data-testid="runs-error-detail">
          {error.detail}
          <span className="banner-code">
            {error.status ? `HTTP ${error.status} · ` : ""}
            {error.code}
          </span>
        </p>
        {ownedByInspector && (
          <p className="banner-hint">
            A run and the step inspector never hold the model at once: end the session on{" "}
            <a href="/inspect">Inspect</a> (Teardown), then start the run again.
          </p>
        )}
        {error.traceback && (
          <details className="banner-traceback">
            <summary>Traceback</summary>
            <pre>{error.traceback}</pre>
          </details>
        )}
        <p className="banner-meta">at {formatClock(error.at)}</p>
      </div>
      <button type="button" className="banner-dismiss" onClick={dismissRunError} aria-label="Dismiss error" title="Dismiss" data-testid="runs-error-dismiss">
        <svg viewBox="0 0 20 20" aria-hidden="true">
          <path d="M5 5l10 10M15 5L5 15" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
        </svg>
      </button>
    </div>
  );
}

/** A run that ended with an error: the message and its traceback stay until the next run. */
export function RunsFailure() {
  const run = useStore($run, { ssr: () => null });
  if (!run || run.status !== "failed") return null;
  return (
    <div className="banner banner-error runs-banner" role="alert" data-testid="runs-failure">
      <ErrorIcon />
      <div className="banner-body">
        <p className="banner-title">
          The run failed after step {formatCount(run.step)}
        </p>
        <p className="banner-detail mono" data-testid="runs-failure-message">
          {run.error ?? "no message"}
        </p>
        {run.traceback && (
          <details className="banner-traceback">
            <summary>Traceback</summary>
            <pre data-testid="runs-failure-traceback">{run.traceback}</pre>
          </details>
        )}
        <p className="banner-meta">The steps it captured stay readable until the next run starts.</p>
      </div>
    </div>
  );
}

/** The run's first NaN/Inf; a click shows that step in the step panel when its full data is held. */
export function RunsFirstNonFinite() {
  const run = useStore($run, { ssr: () => null });
  const frame = useStore($runFrame, { ssr: "initial" });
  const [note, setNote] = useState<{ runId: string; text: string } | null>(null);
  const first = run?.first_nonfinite;
  if (!run || !first) return null;
  const jump = async () => {
    const why = await showRunStep(first.step);
    setNote(why ? { runId: run.run_id, text: why } : null);
    if (!why) document.querySelector('[data-testid="runs-step-panel"]')?.scrollIntoView({ block: "start", behavior: "smooth" });
  };
  return (
    <FirstNonFiniteBadge
      first={first}
      shown={frame?.runId === run.run_id && frame.frame.step === first.step}
      onJump={() => void jump()}
      note={note?.runId === run.run_id ? note.text : null}
      testId="runs-first-nonfinite"
    />
  );
}
