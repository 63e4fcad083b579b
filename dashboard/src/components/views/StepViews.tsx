import "../../styles/views.css";

import { memo } from "react";

import type { StepFrame } from "../../lib/tensor-frame";
import { StepSource } from "../../lib/views/step-tensors";
import AlgorithmTrace from "./AlgorithmTrace";
import CosineMatrices from "./CosineMatrices";
import FeatureFocus from "./FeatureFocus";
import FeatureMetricsTable from "./FeatureMetricsTable";
import NonFiniteBadge from "./NonFiniteBadge";

/**
 * Every view of one decoded step: the non-finite warning, the feature metrics table, the
 * nine-section algorithm trace, the cosine matrices, and the focused feature docked below them. It reads only the
 * frame it is given (and the feature focus), so any page that holds a step can show it: the
 * inspector's step on screen, a paused free run's step. `stale` dims it (the caller knows the
 * step is behind, e.g. a run that moved on). `source` says where the tensors the frame left out
 * (over its byte budget) are read: the path of its steps ("/inspect/step", "/runs/step", a branch's
 * or an archived run's steps).
 */
function StepViews({ frame, stale = false, source = null }: { frame: StepFrame; stale?: boolean; source?: string | null }) {
  const d = frame.tensors.encoder_weights?.shape[0] ?? frame.deferred.encoder_weights?.shape[0] ?? frame.tensors.win_rate?.shape[0];
  return (
    <StepSource.Provider value={source}>
      <div className={stale ? "step-views is-stale" : "step-views"} data-testid="step-views" data-step={frame.step}>
        <NonFiniteBadge frame={frame} />
        <section className="card features-card" aria-labelledby="features-title">
          <header className="card-head">
            <h2 id="features-title">
              Features
              <span className="card-head-step">step {frame.step}</span>
            </h2>
            <span className="muted card-head-meta">
              {d !== undefined ? `${d} features · ` : ""}click a row, thumbnail, bar or heatmap column to focus a feature
            </span>
          </header>
          <div className="features-body">
            <FeatureMetricsTable frame={frame} />
          </div>
        </section>
        <AlgorithmTrace frame={frame} />
        <CosineMatrices frame={frame} />
        {/* Last, so it docks at the bottom of the window while any view above is on screen. */}
        <FeatureFocus frame={frame} />
      </div>
    </StepSource.Provider>
  );
}

export default memo(StepViews);
