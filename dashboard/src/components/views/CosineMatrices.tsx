import { useStore } from "@nanostores/react";
import { memo, useMemo, useState } from "react";

import { $focusedFeature, toggleFeature } from "../../lib/feature-focus-store";
import { KEY_META, type KeyMeta, type StepTensorKey as Key } from "../../lib/generated/tensor-keys";
import type { StepFrame } from "../../lib/tensor-frame";
import { axisName, formatFixed3 } from "../../lib/views/axes";
import { CLASS_KEY } from "../../lib/views/columns";
import { offDiagonalStats, orderByDescending } from "../../lib/views/matrix";
import { deferredSpec } from "../../lib/views/step-tensors";
import { frameScalar } from "../../lib/tensor-frame";
import GridHeatmap from "./GridHeatmap";
import Heatmap from "./Heatmap";
import { Missing, Toggle } from "./parts";

/** The [D, D] similarity matrices of the vocabulary, in enum order. */
const MATRICES = (Object.entries(KEY_META) as [Key, KeyMeta][])
  .filter(([, m]) => m.scale === "cosine" && m.shape.length === 2 && m.shape[0] === "D" && m.shape[1] === "D")
  .map(([key]) => key);

type Order = "index" | "win_rate";

/**
 * The cosine similarity matrices of the step (weights, SOM targets, masked gradients), computed
 * on the trainer, each with the mean, standard deviation and maximum of its off-diagonal entries.
 * A toggle orders rows and columns by win rate, so dead and winning features gather.
 */
function CosineMatrices({ frame }: { frame: StepFrame }) {
  const focused = useStore($focusedFeature, { ssr: "initial" });
  const [orderBy, setOrderBy] = useState<Order>("index");
  const winRate = frame.tensors[CLASS_KEY];
  const order = useMemo(() => (orderBy === "win_rate" && winRate ? orderByDescending(winRate.data) : null), [orderBy, winRate]);
  const stats = useMemo(
    () =>
      MATRICES.map((key) => {
        const tensor = frame.tensors[key];
        return tensor ? offDiagonalStats(tensor.data, tensor.shape[0]) : null;
      }),
    [frame],
  );

  return (
    <section className="card cosine-card" aria-labelledby="cosine-title" data-testid="cosine-matrices" data-view="cosine-matrices" data-step={frame.step}>
      <header className="card-head">
        <h2 id="cosine-title">
          Cosine similarity
          <span className="card-head-step">step {frame.step}</span>
        </h2>
        <span className="cosine-controls">
          <span className="muted card-head-meta">order rows and columns by</span>
          <Toggle
            value={orderBy}
            options={[
              { value: "index", label: "feature index" },
              { value: "win_rate", label: `${CLASS_KEY} ↓`, title: winRate ? "Largest win rate first" : `${CLASS_KEY} is not captured in this condition` },
            ]}
            onChange={setOrderBy}
            disabled={!winRate}
            testId="cosine-order"
          />
        </span>
      </header>
      <div className="cosine-grid">
        {MATRICES.map((key, i) => {
          const tensor = frame.tensors[key];
          const s = stats[i];
          const meta = KEY_META[key];
          const deferred = tensor ? null : deferredSpec(frame, key);
          if (deferred && deferred.shape.length === 2) {
            // Over the frame's budget: drawn reduced (in index order), the mean off-diagonal from
            // the step's scalar; the spread needs the whole matrix.
            const mean = frameScalar(frame, `${key}_mean` as Key);
            return (
              <div key={key} className="cosine-item" data-testid={`cosine-${key}`}>
                <GridHeatmap
                  frame={frame}
                  tensorKey={key}
                  shape={[deferred.shape[0], deferred.shape[1]]}
                  scale={meta.scale}
                  rowName={axisName(meta.shape[0])}
                  colName={axisName(meta.shape[1])}
                  rowIsFeature
                  colIsFeature
                  focused={focused}
                  onSelectFeature={toggleFeature}
                  description={meta.description}
                />
                <dl className="cosine-stats">
                  <div>
                    <dt>mean off-diag</dt>
                    <dd className="mono strong" data-testid={`cosine-mean-${key}`} data-value={mean ?? undefined}>
                      {mean === null ? "—" : formatFixed3(mean)}
                    </dd>
                  </div>
                  <div title="needs the whole matrix, which this step reads reduced">
                    <dt>std · max</dt>
                    <dd className="mono muted">—</dd>
                  </div>
                </dl>
              </div>
            );
          }
          return (
            <div key={key} className="cosine-item" data-testid={`cosine-${key}`}>
              {tensor && s ? (
                <>
                  <Heatmap
                    tensorKey={key}
                    step={frame.step}
                    data={tensor.data}
                    rows={tensor.shape[0]}
                    cols={tensor.shape[1]}
                    scale={meta.scale}
                    rowName={axisName(meta.shape[0])}
                    colName={axisName(meta.shape[1])}
                    rowIsFeature
                    colIsFeature
                    order={order}
                    focused={focused}
                    onSelectFeature={toggleFeature}
                    description={meta.description}
                  />
                  <dl className="cosine-stats">
                    <div>
                      <dt>mean off-diag</dt>
                      <dd className="mono strong" data-testid={`cosine-mean-${key}`} data-value={s.mean}>
                        {formatFixed3(s.mean)}
                      </dd>
                    </div>
                    <div>
                      <dt>std</dt>
                      <dd className="mono" data-testid={`cosine-std-${key}`} data-value={s.std}>
                        {formatFixed3(s.std)}
                      </dd>
                    </div>
                    <div>
                      <dt>max off-diag</dt>
                      <dd className="mono" data-testid={`cosine-max-${key}`} data-value={s.max}>
                        {formatFixed3(s.max)}
                      </dd>
                    </div>
                  </dl>
                </>
              ) : (
                <Missing tensorKey={key} condition={frame.header.condition} step={frame.step} />
              )}
            </div>
          );
        })}
      </div>
    </section>
  );
}

export default memo(CosineMatrices);
