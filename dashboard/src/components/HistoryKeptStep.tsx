import { useStore } from "@nanostores/react";
import { useState } from "react";

import { formatCount } from "../lib/format";
import { $archiveList, $keptStep, $selectedRuns, closeKeptStep, keptStepsPath, openKeptStep } from "../lib/history-store";
import ViewsBoundary from "./ViewsBoundary";
import StepViews from "./views/StepViews";

/**
 * The kept steps of an archived run (the full data it held when it ended), opened in the views a
 * live step has on /inspect and the runs page. The run offered first is the first ticked one that
 * kept any.
 */
export default function HistoryKeptStep() {
  const list = useStore($archiveList);
  const selected = useStore($selectedRuns);
  const kept = useStore($keptStep);
  const runs = (list?.runs ?? []).filter((run) => run.kept_steps.length > 0);
  const [picked, setPicked] = useState<string | null>(null);
  const [pickedStep, setPickedStep] = useState<number | null>(null);
  if (!runs.length) return null;
  const preferred = selected.find((id) => runs.some((run) => run.id === id));
  const run = runs.find((r) => r.id === picked) ?? runs.find((r) => r.id === preferred) ?? runs[0];
  const step = pickedStep !== null && run.kept_steps.includes(pickedStep) ? pickedStep : run.kept_steps[run.kept_steps.length - 1];

  return (
    <section className="card" aria-labelledby="history-kept-title" data-testid="history-kept">
      <header className="card-head">
        <h2 id="history-kept-title">Kept steps</h2>
        <div className="runs-head-tools">
          <label className="runs-smoothing">
            <span className="muted">run</span>
            <select
              value={run.id}
              data-testid="history-kept-run"
              onChange={(event) => {
                setPicked(event.target.value);
                setPickedStep(null);
              }}
            >
              {runs.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.recipe} {r.condition} · {r.id}
                </option>
              ))}
            </select>
          </label>
          <label className="runs-smoothing">
            <span className="muted">step</span>
            <select value={step} data-testid="history-kept-step" onChange={(event) => setPickedStep(Number(event.target.value))}>
              {run.kept_steps.map((s) => (
                <option key={s} value={s}>
                  {formatCount(s)}
                </option>
              ))}
            </select>
          </label>
          <button type="button" className="btn btn-sm btn-primary" data-testid="history-kept-open" onClick={() => void openKeptStep(run.id, step)}>
            Open
          </button>
          {kept && (
            <button type="button" className="btn btn-sm" data-testid="history-kept-close" onClick={closeKeptStep}>
              Close
            </button>
          )}
        </div>
      </header>
      {kept ? (
        <div data-testid="history-kept-views" data-run={kept.runId} data-step={kept.step}>
          <p className="muted history-note">
            Step {formatCount(kept.step)} of run {kept.runId}, as it was kept on disk.
          </p>
          <ViewsBoundary step={kept.step} testId="history-kept-error">
            <StepViews frame={kept.frame} source={keptStepsPath(kept.runId)} />
          </ViewsBoundary>
        </div>
      ) : (
        <p className="muted history-note">Pick a run and one of its kept steps, then Open: every tensor of that step, in the inspector&apos;s views.</p>
      )}
    </section>
  );
}
