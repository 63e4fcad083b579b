import BreakpointPanel from "./BreakpointPanel";
import BreakReasonBanner from "./BreakReasonBanner";
import HealthPanel from "./HealthPanel";
import HparamsPanel from "./HparamsPanel";
import { RunsErrorBanner, RunsFailure, RunsFirstNonFinite } from "./RunsBanners";
import RunsControls from "./RunsControls";
import RunsFeatureDetail from "./RunsFeatureDetail";
import RunsForceScatter from "./RunsForceScatter";
import RunsLossChart from "./RunsLossChart";
import RunsStepPanel from "./RunsStepPanel";
import RunsStepViews from "./RunsStepViews";
import RunsSummary from "./RunsSummary";
import RunsWatchPanel from "./RunsWatchPanel";
import RewindPanel from "./RewindPanel";

/**
 * The runs page's views, one island (separate islands sharing stores hydrate out of step). Every
 * view reads the stores with `ssr: "initial"` (or a fixed value for computed ones): the static
 * HTML was rendered from the stores' initial values, and run-store.ts opens the event stream as
 * soon as a view first reads it, so hydration must see those initial values too.
 */
export default function RunsPage() {
  return (
    <div className="runs-page">
      <RunsErrorBanner />
      <RunsControls />
      <RunsFailure />
      <RunsFirstNonFinite />
      <BreakReasonBanner target="run" />
      <RunsSummary />
      <div className="runs-row runs-row-live">
        <RunsLossChart />
        <HealthPanel />
      </div>
      <div className="runs-row runs-row-steering">
        <BreakpointPanel target="run" />
        <HparamsPanel target="run" />
      </div>
      <RewindPanel target="run" />
      <RunsStepPanel />
      <div className="runs-row runs-row-forces">
        <RunsForceScatter />
        <RunsFeatureDetail />
      </div>
      <RunsWatchPanel />
      <RunsStepViews />
    </div>
  );
}
