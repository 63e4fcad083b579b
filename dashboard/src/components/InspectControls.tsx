import { useStore } from "@nanostores/react";
import { useEffect, useState } from "react";

import { formatDuration } from "../lib/format";
import {
  $inspectBusy,
  $inspectSession,
  $inspectState,
  DEFAULT_CONDITION,
  type InspectBusy,
  STEP_CHOICES,
  setupInspector,
  stepInspector,
  stepLabel,
  teardownInspector,
} from "../lib/inspect-store";

const STEP_TEST_IDS: Record<number, string> = {
  1: "inspect-step-btn",
  10: "inspect-step10-btn",
  50: "inspect-step50-btn",
};

/** Condition picker, Step / Step ×10 / Step ×50, Teardown, and what is running right now. */
export default function InspectControls() {
  const state = useStore($inspectState, { ssr: "initial" });
  const session = useStore($inspectSession, { ssr: () => null });
  const busy = useStore($inspectBusy, { ssr: "initial" });
  // The condition to start with when there is no session (the picker shows the session's otherwise).
  const [chosen, setChosen] = useState(DEFAULT_CONDITION);

  const conditions = state?.conditions ?? [DEFAULT_CONDITION];
  const shown = busy?.action === "setup" && busy.condition ? busy.condition : (session?.condition ?? chosen);
  const locked = busy !== null || state === null;

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
            onChange={(event) => {
              setChosen(event.target.value);
              void setupInspector(event.target.value);
            }}
          >
            {conditions.map((condition) => (
              <option key={condition} value={condition}>
                {condition}
              </option>
            ))}
          </select>
        </div>
      </div>

      <span className="control-divider" aria-hidden="true" />

      {session || busy?.action === "setup" ? (
        <div className="btn-group" role="group" aria-label="Run steps">
          {STEP_CHOICES.map((n) => {
            const running = busy?.action === "step" && busy.n === n;
            return (
              <button
                key={n}
                type="button"
                className={n === 1 ? "btn btn-primary" : "btn"}
                data-testid={STEP_TEST_IDS[n]}
                disabled={locked || !session}
                aria-busy={running}
                title={n === 1 ? "Run one training step" : `Run ${n} training steps and show the last`}
                onClick={() => void stepInspector(n)}
              >
                {running && <span className="spinner" aria-hidden="true" />}
                {running ? (n === 1 ? "Stepping…" : `Running ×${n}…`) : stepLabel(n)}
              </button>
            );
          })}
        </div>
      ) : (
        <button
          type="button"
          className="btn btn-primary"
          data-testid="inspect-setup-btn"
          disabled={locked}
          onClick={() => void setupInspector(shown)}
        >
          Start session
        </button>
      )}

      <BusyNote busy={busy} />

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
    case "step":
      return busy.n === 1 ? "Running 1 step…" : `Running ${busy.n} steps…`;
  }
}

/** What is running, with a live elapsed time; polite for screen readers. */
function BusyNote({ busy }: { busy: InspectBusy | null }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!busy) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 100);
    return () => clearInterval(timer);
  }, [busy]);

  return (
    <span className="busy-note" aria-live="polite">
      {busy && (
        <span className="busy-chip" data-testid="inspect-busy" data-action={busy.action}>
          <span className="spinner spinner-sm" aria-hidden="true" />
          {busyText(busy)}
          <span className="busy-time mono">{formatDuration(Math.max(0, now - busy.startedAt))}</span>
        </span>
      )}
    </span>
  );
}
