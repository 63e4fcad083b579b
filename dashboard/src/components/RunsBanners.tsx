import { useStore } from "@nanostores/react";
import { useState } from "react";

import { formatCount } from "../lib/format";
import { $run, $runError, dismissRunError } from "../lib/run-store";
import { $runFrame, showRunStep } from "../lib/runs-store";
import ErrorBanner, { AlertBanner, Traceback } from "./ErrorBanner";
import FirstNonFiniteBadge from "./FirstNonFiniteBadge";

/** The last failed call: what was being done and the trainer's answer (409 names the model's owner). */
export function RunsErrorBanner() {
  const error = useStore($runError, { ssr: "initial" });
  const ownedByInspector = error !== null && error.status === 409 && /inspector/i.test(error.detail);
  return (
    <ErrorBanner
      error={error}
      onDismiss={dismissRunError}
      testId="runs-error"
      className="runs-banner"
      conflict="the model is busy"
      hint={
        ownedByInspector && (
          <p className="banner-hint">
            A run and the step inspector never hold the model at once: end the session on{" "}
            <a href="/inspect">Inspect</a> (Teardown), then start the run again.
          </p>
        )
      }
    />
  );
}

/** A run that ended with an error: the message and its traceback stay until the next run. */
export function RunsFailure() {
  const run = useStore($run, { ssr: () => null });
  if (!run || run.status !== "failed") return null;
  return (
    <AlertBanner testId="runs-failure" className="runs-banner">
      <p className="banner-title">The run failed after step {formatCount(run.step)}</p>
      <p className="banner-detail mono" data-testid="runs-failure-message">
        {run.error ?? "no message"}
      </p>
      {run.traceback && <Traceback text={run.traceback} testId="runs-failure-traceback" />}
      <p className="banner-meta">The steps it captured stay readable until the next run starts.</p>
    </AlertBanner>
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
