import { useStore } from "@nanostores/react";
import { useEffect, useState } from "react";

import { BREAKPOINT_THRESHOLDS } from "../lib/generated/breakpoints";
import { $breakpoints, $steeringError, armBreakpoints, clearBreakpoints, loadSteering, loopStore, type SteeringTarget } from "../lib/steering-store";
import type { BreakpointConfig } from "../lib/steering-types";
import "../styles/steering.css";

/** What the form holds: each condition on or off, and each threshold as typed. */
interface Draft {
  nonfinite: boolean;
  on: Record<string, boolean>;
  values: Record<string, string>;
}

function draftOf(config: BreakpointConfig | null): Draft {
  const on: Record<string, boolean> = {};
  const values: Record<string, string> = {};
  for (const spec of BREAKPOINT_THRESHOLDS) {
    const armed = config ? (config[spec.name as keyof BreakpointConfig] as number | null) : null;
    on[spec.name] = armed !== null;
    values[spec.name] = String(armed ?? spec.default);
  }
  return { nonfinite: config?.nonfinite ?? false, on, values };
}

/**
 * The breakpoints of the free run (`target="run"`: the run pauses at the step where one fires) or
 * the inspector session (`"inspect"`: a Step ×N ends there): a checkbox per condition, its
 * threshold (ranges from the generated acc/breakpoints.py), Arm and Clear.
 */
export default function BreakpointPanel(props: { target: SteeringTarget }) {
  const { target } = props;
  const loop = useStore(loopStore(target), { ssr: () => null });
  const answers = useStore($breakpoints, { ssr: "initial" });
  const errors = useStore($steeringError, { ssr: "initial" });
  const answer = answers[target];
  // What the user changed since the last answer; otherwise the form shows what the trainer holds.
  const [edited, setDraft] = useState<Draft | null>(null);
  const draft = edited ?? draftOf(answer?.breakpoints ?? null);
  const loopId = loop?.id ?? null;

  useEffect(() => {
    if (loopId !== null) void loadSteering(target);
  }, [target, loopId]);
  if (!loop) return null;
  const arm = () => {
    const config: Partial<BreakpointConfig> = { nonfinite: draft.nonfinite };
    for (const spec of BREAKPOINT_THRESHOLDS) {
      const value = Number(draft.values[spec.name]);
      (config as Record<string, number | null>)[spec.name] = draft.on[spec.name] ? value : null;
    }
    setDraft(null);
    void armBreakpoints(target, config);
  };
  const armedNames = answer
    ? Object.entries(answer.breakpoints)
        .filter(([, value]) => value !== null && value !== false)
        .map(([name]) => name)
    : [];

  return (
    <section className="card steering-card" aria-labelledby={`${target}-breakpoints-title`} data-testid={`${target}-breakpoints`}>
      <header className="card-head">
        <h2 id={`${target}-breakpoints-title`}>
          Breakpoints
          <span className="card-head-step" data-testid={`${target}-breakpoints-armed`}>
            {armedNames.length ? `armed: ${armedNames.join(", ")}` : "none armed"}
          </span>
        </h2>
      </header>
      <div className="steering-body">
        <label className="steering-row" title="Any captured tensor, the loss, a module's output, a gradient or a parameter holds NaN/Inf">
          <input
            type="checkbox"
            checked={draft.nonfinite}
            onChange={(event) => setDraft({ ...draft, nonfinite: event.target.checked })}
            data-testid={`${target}-bp-nonfinite`}
          />
          <span className="mono">nonfinite</span>
          <span aria-hidden="true" />
          <span className="steering-help">NaN/Inf anywhere; names the first module</span>
        </label>
        {BREAKPOINT_THRESHOLDS.map((spec) => (
          <label key={spec.name} className="steering-row" title={spec.help}>
            <input
              type="checkbox"
              checked={draft.on[spec.name]}
              onChange={(event) => setDraft({ ...draft, on: { ...draft.on, [spec.name]: event.target.checked } })}
              data-testid={`${target}-bp-${spec.name}`}
            />
            <span className="mono">{spec.name}</span>
            <input
              className="steering-number mono"
              type="number"
              min={spec.low}
              max={spec.high}
              step="any"
              value={draft.values[spec.name]}
              aria-label={`${spec.name} threshold`}
              onChange={(event) => setDraft({ ...draft, values: { ...draft.values, [spec.name]: event.target.value } })}
              data-testid={`${target}-bp-${spec.name}-value`}
            />
            <span className="steering-help">{spec.help}</span>
          </label>
        ))}
        <div className="steering-actions">
          <button type="button" className="btn btn-primary" onClick={arm} data-testid={`${target}-bp-arm`}>
            Arm
          </button>
          <button type="button" className="btn" onClick={() => {
              setDraft(null);
              void clearBreakpoints(target);
            }} data-testid={`${target}-bp-clear`}>
            Clear
          </button>
          {errors[target] && (
            <span className="steering-error" role="alert" data-testid={`${target}-steering-error`}>
              {errors[target]}
            </span>
          )}
        </div>
      </div>
    </section>
  );
}
