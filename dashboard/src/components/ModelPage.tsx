import { useStore } from "@nanostores/react";

import { $modelError, dismissModelError } from "../lib/model-store";
import BreakpointPanel from "./BreakpointPanel";
import BreakReasonBanner from "./BreakReasonBanner";
import ErrorBanner from "./ErrorBanner";
import ModelControls from "./ModelControls";
import ModelHeatmap from "./ModelHeatmap";
import ModelHistograms from "./ModelHistograms";
import ModelLayerTable from "./ModelLayerTable";
import ModelRanks from "./ModelRanks";
import ModelScalars from "./ModelScalars";

/** The generic model view of a loop attached with `acc.attach`: controls, scalars, layers, tensors. */
export default function ModelPage() {
  const error = useStore($modelError, { ssr: "initial" });
  return (
    <div className="model-page" data-testid="model-page">
      <ModelControls />
      <ErrorBanner
        error={error}
        onDismiss={dismissModelError}
        testId="model-error"
        conflict="this trainer runs a built-in recipe or the loop has ended"
      />
      <BreakReasonBanner target="model" />
      <BreakpointPanel target="model" />
      <section className="card" aria-labelledby="model-scalars-title">
        <header className="card-head">
          <h2 id="model-scalars-title">Scalars</h2>
        </header>
        <div className="model-card-body">
          <ModelScalars />
        </div>
      </section>
      <ModelRanks />
      <section className="card" aria-labelledby="model-layers-title">
        <header className="card-head">
          <h2 id="model-layers-title">Layers</h2>
        </header>
        <div className="model-card-body">
          <ModelLayerTable />
        </div>
      </section>
      <section className="card model-detail" aria-labelledby="model-detail-title">
        <header className="card-head">
          <h2 id="model-detail-title">Tensors</h2>
        </header>
        <div className="model-card-body model-detail-row">
          <ModelHeatmap />
          <ModelHistograms />
        </div>
      </section>
    </div>
  );
}
