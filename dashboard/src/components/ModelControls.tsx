import { useStore } from "@nanostores/react";
import { type FormEvent, useState } from "react";

import { formatCount } from "../lib/format";
import { MAX_STEPS_PER_CALL } from "../lib/generated/limits";
import { $modelBusy, $modelState, type ModelAction, pauseModel, resumeModel, stepModel, stopModel } from "../lib/model-store";
import BusyNote from "./BusyNote";

const BUSY_TEXT: Record<ModelAction, string> = {
  pause: "Pausing at the next step…",
  step: "Stepping…",
  resume: "Resuming…",
  stop: "Stopping…",
};

/** The attached loop's state and Pause / Step n / Resume / Stop. */
export default function ModelControls() {
  const state = useStore($modelState, { ssr: "initial" });
  const busy = useStore($modelBusy, { ssr: "initial" });
  const [count, setCount] = useState("1");
  const n = Number.parseInt(count, 10);
  const validCount = Number.isInteger(n) && n >= 1 && n <= MAX_STEPS_PER_CALL;
  const live = state !== null && !state.closed && !state.stop_requested;
  const paused = live && state.paused;

  const onStep = (event: FormEvent) => {
    event.preventDefault();
    if (validCount) void stepModel(n);
  };

  const status = !state ? "waiting" : state.closed ? "closed" : state.stop_requested ? "stopping" : state.paused ? "paused" : "running";
  return (
    <section className="model-controls" aria-label="Loop controls">
      <p className="model-status" data-testid="model-status" data-status={status} data-step={state?.step ?? ""}>
        {state ? (
          <>
            <span className="mono">{state.model}</span> · step{" "}
            <strong className="mono" data-testid="model-step-number">
              {formatCount(state.step)}
            </strong>{" "}
            · {status}
            {state.paused && !state.blocked && live ? " (finishing the step in flight)" : ""} ·{" "}
            {formatCount(state.parameter_count)} parameters in {state.parameters} tensors ·{" "}
            {state.steps_per_second.toFixed(1)} steps/s · statistics every {state.capture_every} steps
          </>
        ) : (
          "Waiting for an attached loop (acc.attach in your script) to answer…"
        )}
      </p>
      <div className="model-buttons">
        <button type="button" className="btn" data-testid="model-pause" disabled={!live || paused || busy !== null} onClick={() => void pauseModel()}>
          Pause
        </button>
        <form className="model-step-form" onSubmit={onStep}>
          <button type="submit" className="btn btn-primary" data-testid="model-step" disabled={!paused || !validCount || busy !== null}>
            Step
          </button>
          <label>
            ×{" "}
            <input
              type="number"
              min={1}
              max={MAX_STEPS_PER_CALL}
              value={count}
              onChange={(event) => setCount(event.target.value)}
              data-testid="model-step-count"
              aria-label="Steps to run"
              aria-invalid={!validCount}
            />
          </label>
        </form>
        <button type="button" className="btn" data-testid="model-resume" disabled={!paused || busy !== null} onClick={() => void resumeModel()}>
          Resume
        </button>
        <button type="button" className="btn btn-danger" data-testid="model-stop" disabled={!live || busy !== null} onClick={() => void stopModel()}>
          Stop
        </button>
        <BusyNote busy={busy} text={(b) => BUSY_TEXT[b.action]} testId="model-busy" />
      </div>
      {state?.first_nonfinite && (
        <p className="model-nonfinite" role="status" data-testid="model-first-nonfinite">
          First non-finite value at step {state.first_nonfinite.step}
          {state.first_nonfinite.first_seen !== undefined ? ` (scalars since step ${state.first_nonfinite.first_seen})` : ""}:{" "}
          <span className="mono">{state.first_nonfinite.key}</span>
          {state.first_nonfinite.count !== undefined ? ` (${formatCount(state.first_nonfinite.count)} values)` : ""}
        </p>
      )}
    </section>
  );
}
