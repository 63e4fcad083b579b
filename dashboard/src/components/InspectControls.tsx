import { useStore } from "@nanostores/react";

import {
  $inspectBusy,
  $inspectOwner,
  $inspectPicked,
  $inspectSession,
  $inspectState,
  $inspectWidth,
  DEFAULT_CONDITION,
  type InspectBusy,
  pickCondition,
  pickWidth,
  STEP_CHOICES,
  setupInspector,
  stepInspector,
  stepLabel,
  teardownInspector,
} from "../lib/inspect-store";
import { ownerLabel } from "../lib/model-owner";
import BusyNote from "./BusyNote";
import WidthInput from "./WidthInput";

const STEP_TEST_IDS: Record<number, string> = {
  1: "inspect-step-btn",
  10: "inspect-step10-btn",
  50: "inspect-step50-btn",
};

/**
 * Condition picker, Set up (without a session), Step / Step ×10 / Step ×50, Teardown, and what is
 * running right now. Opening the page sets nothing up: the first Step sets up a session of the
 * picked condition and runs it, so the model stays free for a free run until then.
 */
export default function InspectControls() {
  const state = useStore($inspectState, { ssr: "initial" });
  const session = useStore($inspectSession, { ssr: () => null });
  const busy = useStore($inspectBusy, { ssr: "initial" });
  const picked = useStore($inspectPicked, { ssr: "initial" });
  const owner = useStore($inspectOwner, { ssr: () => null });
  const width = useStore($inspectWidth, { ssr: "initial" });

  const conditions = state?.conditions ?? [DEFAULT_CONDITION];
  const shown = busy?.action === "setup" && busy.condition ? busy.condition : (session?.condition ?? picked);
  const locked = busy !== null || state === null;
  // Another owner (a free run) holds the model: setting up here would be refused (the banner above says so).
  const held = owner ? `The model is held by ${ownerLabel(owner)}` : null;

  return (
    <section
      className="card inspect-controls"
      aria-label="Inspector controls"
      data-testid="inspect-controls"
      data-state={state === null ? "loading" : session ? "active" : "inactive"}
    >
      <div className="control-field">
        <label htmlFor="inspect-condition" className="control-label">
          Condition
        </label>
        <div className="select-wrap">
          <select
            id="inspect-condition"
            className="select"
            data-testid="inspect-condition"
            value={shown}
            disabled={locked}
            title={session ? "Pick a condition to set up a fresh session of it" : "The condition the next Step or Set up starts"}
            onChange={(event) => void pickCondition(event.target.value)}
          >
            {conditions.map((condition) => (
              <option key={condition} value={condition}>
                {condition}
              </option>
            ))}
          </select>
        </div>
      </div>

      <WidthInput
        key={width}
        id="inspect-width"
        testId="inspect-width"
        value={width}
        disabled={locked}
        title={session ? "Commit another width to set up a fresh session of it" : undefined}
        onCommit={(dim) => void pickWidth(dim)}
      />

      <span className="control-divider" aria-hidden="true" />

      {!session && (
        <button
          type="button"
          className="btn"
          data-testid="inspect-setup-btn"
          disabled={locked || held !== null}
          aria-busy={busy?.action === "setup"}
          title={held ?? `Set up a ${shown} session at step 0 (this takes the trainer's model)`}
          onClick={() => void setupInspector(shown)}
        >
          {busy?.action === "setup" && <span className="spinner" aria-hidden="true" />}
          {busy?.action === "setup" ? "Setting up…" : "Set up"}
        </button>
      )}

      <div className="btn-group" role="group" aria-label="Run steps">
        {STEP_CHOICES.map((n) => {
          const running = busy?.action === "step" && busy.n === n;
          const what = n === 1 ? "one training step" : `${n} training steps and show the last`;
          return (
            <button
              key={n}
              type="button"
              className={n === 1 ? "btn btn-primary" : "btn"}
              data-testid={STEP_TEST_IDS[n]}
              disabled={locked || (!session && held !== null)}
              aria-busy={running}
              title={held && !session ? held : session ? `Run ${what}` : `Set up a ${shown} session and run ${what}`}
              onClick={() => void stepInspector(n)}
            >
              {running && <span className="spinner" aria-hidden="true" />}
              {running ? (n === 1 ? "Stepping…" : `Running ×${n}…`) : stepLabel(n)}
            </button>
          );
        })}
      </div>

      <BusyNote busy={busy} text={busyText} testId="inspect-busy" />

      <span className="control-spacer" />

      {session && (
        <button
          type="button"
          className="btn btn-danger"
          data-testid="inspect-teardown-btn"
          disabled={locked}
          title="End the session and free its memory on the trainer"
          onClick={() => void teardownInspector()}
        >
          {busy?.action === "teardown" && <span className="spinner" aria-hidden="true" />}
          {busy?.action === "teardown" ? "Tearing down…" : "Teardown"}
        </button>
      )}
    </section>
  );
}

function busyText(busy: InspectBusy): string {
  switch (busy.action) {
    case "connect":
      return "Connecting to the trainer…";
    case "setup":
      return `Setting up ${busy.condition ?? "a session"}…`;
    case "teardown":
      return "Ending the session…";
    case "release":
      return "Stopping the free run…";
    case "step":
      return busy.n === 1 ? "Running 1 step…" : `Running ${busy.n} steps…`;
    case "rewind":
      return "Rewinding…";
  }
}
