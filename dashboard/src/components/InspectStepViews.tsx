import { useStore } from "@nanostores/react";

import { formatCount } from "../lib/format";
import { $inspectFrame, $inspectSelection } from "../lib/inspect-store";
import StepViews from "./views/StepViews";

/** The step views of the step on screen: its decoded frame while the trainer still holds it. */
export default function InspectStepViews() {
  const frame = useStore($inspectFrame, { ssr: "initial" });
  const selection = useStore($inspectSelection, { ssr: "initial" });

  if (selection.status === "evicted" && selection.step !== null) {
    return (
      <div className="views-note card" data-testid="views-evicted">
        <p className="empty-title">No intermediates for step {formatCount(selection.step)}</p>
        <p className="empty-text">Its full tensors were evicted; pick a step whose full data is held.</p>
      </div>
    );
  }
  if (!frame || selection.step === null) return null;
  // While another step loads (tens of ms), the last one stays as it is rather than the page
  // collapsing or flashing.
  if (frame.step !== selection.step && selection.status !== "loading") return null;
  return <StepViews frame={frame} source="/inspect/step" />;
}
