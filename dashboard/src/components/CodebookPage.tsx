import { useStore } from "@nanostores/react";

import { $codebookRun } from "../lib/codebook-store";
import { $runError, dismissRunError } from "../lib/run-store";
import CodebookControls from "./CodebookControls";
import CodebookDecoded from "./CodebookDecoded";
import CodebookDynamics from "./CodebookDynamics";
import CodebookEvents from "./CodebookEvents";
import CodebookHealthTable, { CodebookWarnings } from "./CodebookHealthTable";
import CodebookLossChart from "./CodebookLossChart";
import CodebookUsage from "./CodebookUsage";
import ErrorBanner, { AlertBanner, Traceback } from "./ErrorBanner";

/**
 * The codebook page's views, one island (separate islands sharing stores hydrate out of step,
 * React error #418). Every view reads the stores with `ssr: "initial"` (or a fixed value for
 * computed ones): the static HTML was rendered from the stores' initial values, and
 * run-store.ts opens the event stream as soon as a view first reads it, so hydration must
 * see those initial values too.
 */
export default function CodebookPage() {
  return (
    <div className="cb-page">
      <CodebookErrorBanner />
      <CodebookControls />
      <CodebookFailure />
      <CodebookWarnings />
      <CodebookHealthTable />
      <div className="cb-row cb-row-loss">
        <CodebookLossChart />
        <CodebookEvents />
      </div>
      <CodebookUsage />
      <CodebookDynamics />
      <CodebookDecoded />
    </div>
  );
}

/** The last failed call and the trainer's answer (a 409 names who holds the model). */
function CodebookErrorBanner() {
  const error = useStore($runError, { ssr: "initial" });
  return <ErrorBanner error={error} onDismiss={dismissRunError} testId="codebook-error" conflict="the model is busy" />;
}

/** A run that ended with an error: its message and traceback stay until the next run. */
function CodebookFailure() {
  const run = useStore($codebookRun, { ssr: () => null });
  if (!run || run.status !== "failed") return null;
  return (
    <AlertBanner testId="codebook-run-failed">
      <p className="banner-title">The run failed at step {run.step}</p>
      <p className="banner-detail">{run.error}</p>
      {run.traceback && <Traceback text={run.traceback} />}
    </AlertBanner>
  );
}
