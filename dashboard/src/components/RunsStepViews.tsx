import { useStore } from "@nanostores/react";

import { formatCount } from "../lib/format";
import { $run, $runStep } from "../lib/run-store";
import { $runFrame } from "../lib/runs-store";
import ViewsBoundary from "./ViewsBoundary";
import StepViews from "./views/StepViews";

/**
 * Every tensor of the step taken with Step, in the inspector views (the same ones /inspect shows:
 * feature metrics and focus, the algorithm trace, the cosine matrices). Last on the page: they are
 * long, and the run's own panels stay together above them.
 */
export default function RunsStepViews() {
  const run = useStore($run, { ssr: () => null });
  const shown = useStore($runFrame, { ssr: "initial" });
  const latest = useStore($runStep, { ssr: () => 0 });
  const frame = shown && run && shown.runId === run.run_id ? shown.frame : null;
  if (!frame) return null;

  return (
    <section className="runs-step-views" id="runs-step-views" aria-labelledby="runs-step-views-title" data-testid="runs-step-views" data-step={frame.step}>
      <header className="runs-section-head">
        <h2 id="runs-step-views-title">
          Inside step {formatCount(frame.step)}
        </h2>
        <span className="muted">
          every tensor the stepped batch captured
          {latest > frame.step ? ` · the run has moved on to step ${formatCount(latest)}` : ""}
        </span>
      </header>
      <ViewsBoundary step={frame.step} testId="runs-step-views-error" className="card runs-step-views-error">
        <StepViews frame={frame} stale={latest > frame.step && run?.status === "running"} source="/runs/step" />
      </ViewsBoundary>
    </section>
  );
}
