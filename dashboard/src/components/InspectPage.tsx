import BreakpointPanel from "./BreakpointPanel";
import BreakReasonBanner from "./BreakReasonBanner";
import HparamsPanel from "./HparamsPanel";
import InspectBatchGrid from "./InspectBatchGrid";
import InspectControls from "./InspectControls";
import InspectErrorBanner from "./InspectErrorBanner";
import InspectFeatureTimeline from "./InspectFeatureTimeline";
import InspectFirstNonFinite from "./InspectFirstNonFinite";
import InspectLossTimeline from "./InspectLossTimeline";
import InspectStepSummary from "./InspectStepSummary";
import InspectStepViews from "./InspectStepViews";
import RewindPanel from "./RewindPanel";

/**
 * The inspector's views, one island. Each view reads the stores with `ssr: "initial"`: the
 * static HTML was rendered from the stores' initial values, and the store's onMount starts
 * fetching as soon as a view first reads it, so hydration must see those initial values too.
 * New views read the same stores (inspect-store.ts) and are added here. The step views
 * (InspectStepViews → views/StepViews) take the decoded frame as a prop, so other pages reuse them.
 */
export default function InspectPage() {
  return (
    <div className="inspect-layout">
      <InspectErrorBanner />
      <InspectControls />
      <InspectFirstNonFinite />
      <BreakReasonBanner target="inspect" />
      <InspectStepSummary />
      <InspectLossTimeline />
      <RewindPanel target="inspect" />
      <div className="steering-row-pair">
        <BreakpointPanel target="inspect" />
        <HparamsPanel target="inspect" />
      </div>
      <InspectFeatureTimeline />
      <InspectBatchGrid />
      <InspectStepViews />
    </div>
  );
}
