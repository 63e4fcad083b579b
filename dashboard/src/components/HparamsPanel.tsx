import { useStore } from "@nanostores/react";
import { useEffect, useState } from "react";

import { formatValue } from "../lib/format";
import { $hparams, $steeringError, editHparams, loadSteering, loopStore, type SteeringTarget } from "../lib/steering-store";
import "../styles/steering.css";

/**
 * The live setup's editable hyper-parameters (the optimizer's learning rate and weight decay, the
 * recipe's own knobs): each value now, a field to change it, and the edits still waiting for the
 * next step boundary. An applied edit shows as a marker on the loss timeline.
 */
export default function HparamsPanel(props: { target: SteeringTarget }) {
  const { target } = props;
  const loop = useStore(loopStore(target), { ssr: () => null });
  const answers = useStore($hparams, { ssr: "initial" });
  const answer = answers[target];
  const errors = useStore($steeringError, { ssr: "initial" });
  const [typed, setTyped] = useState<Record<string, string>>({});
  const loopId = loop?.id ?? null;
  const eventCount = loop?.events.length ?? 0;

  // Values change only by an edit (each one is an event): reload then, not at every step.
  useEffect(() => {
    if (loopId !== null) void loadSteering(target);
  }, [target, loopId, eventCount]);

  if (!loop || !answer) return null;
  const apply = () => {
    const changes: Record<string, number> = {};
    for (const [name, text] of Object.entries(typed)) {
      if (text.trim() !== "") changes[name] = Number(text);
    }
    setTyped({});
    void editHparams(target, changes);
  };
  const pending = Object.entries(answer.pending);

  return (
    <section className="card steering-card" aria-labelledby={`${target}-hparams-title`} data-testid={`${target}-hparams`}>
      <header className="card-head">
        <h2 id={`${target}-hparams-title`}>
          Live edits
          <span className="card-head-step">applied at the next step</span>
        </h2>
      </header>
      <div className="steering-body">
        {answer.knobs.map((knob) => (
          <label key={knob.name} className="steering-row steering-knob" title={`${knob.help} (${knob.low}..${knob.high})`}>
            <span className="mono steering-name">{knob.name}</span>
            <span className="mono steering-value" data-testid={`${target}-hp-${knob.name}-now`}>
              {formatValue(knob.value)}
            </span>
            <input
              className="steering-number mono"
              type="number"
              min={knob.low}
              max={knob.high}
              step="any"
              placeholder="new value"
              value={typed[knob.name] ?? ""}
              aria-label={`new ${knob.name}`}
              onChange={(event) => setTyped({ ...typed, [knob.name]: event.target.value })}
              data-testid={`${target}-hp-${knob.name}`}
            />
            <span className="steering-help">{knob.help}</span>
          </label>
        ))}
        <div className="steering-actions">
          <button
            type="button"
            className="btn btn-primary"
            onClick={apply}
            disabled={!Object.values(typed).some((text) => text.trim() !== "")}
            data-testid={`${target}-hp-apply`}
          >
            Apply at next step
          </button>
          {pending.length > 0 && (
            <span className="steering-help" data-testid={`${target}-hp-pending`}>
              pending: {pending.map(([name, value]) => `${name} → ${formatValue(value)}`).join(", ")}
            </span>
          )}
          {errors[target] && (
            <span className="steering-error" role="alert" data-testid={`${target}-hp-error`}>
              {errors[target]}
            </span>
          )}
        </div>
      </div>
    </section>
  );
}
