import { useStore } from "@nanostores/react";
import { useMemo, useState } from "react";

import { formatBytes, formatCount, formatValue } from "../lib/format";
import { KEY_META, StepTensorKey, type StepTensorKey as Key } from "../lib/generated/tensor-keys";
import {
  $inspectFrame,
  $inspectHistory,
  $inspectSelection,
  $inspectSession,
  $inspectStepRow,
  historyValue,
  type InspectHistory,
  type InspectStepRow,
} from "../lib/inspect-store";
import { frameScalar, type StepFrame } from "../lib/tensor-frame";
import BatchGrid, { BatchPlaceholder, DigitCounts } from "./BatchGrid";

const IMAGES = StepTensorKey.BATCH_IMAGES;
const LABELS = StepTensorKey.BATCH_LABELS;
/** Scalars shown beside the grid: every 0-d key but the loss (which has its own tile). */
const SIDE_SCALARS = (Object.keys(KEY_META) as Key[]).filter(
  (key) => KEY_META[key].render === "scalar" && key !== StepTensorKey.LOSS,
);

/** The batch of the step on screen as one picture, with its digit labels and scalars beside it. */
export default function InspectBatchGrid() {
  const session = useStore($inspectSession, { ssr: () => null });
  const selection = useStore($inspectSelection, { ssr: "initial" });
  const frame = useStore($inspectFrame, { ssr: "initial" });
  const history = useStore($inspectHistory, { ssr: "initial" });
  const row = useStore($inspectStepRow, { ssr: "initial" });
  const [digit, setDigit] = useState<number | null>(null);

  const step = selection.step;
  const shown = frame && (frame.step === step || selection.status === "loading") ? frame : null;
  const current = shown && shown.step === step ? shown : null;
  const labels = useMemo(() => labelsOf(current, row, step), [current, row, step]);

  return (
    <section className="card batch-card" aria-labelledby="batch-title">
      <header className="card-head">
        <h2 id="batch-title">
          Batch
          {step !== null && <span className="card-head-step">step {formatCount(step)}</span>}
        </h2>
        <span className="muted card-head-meta">
          {current?.images[IMAGES]
            ? `${current.images[IMAGES].count} images · frame ${formatBytes(current.byteLength)}`
            : session
              ? `${session.batch_size} images per batch`
              : ""}
        </span>
      </header>

      <div className="batch-body">
        <div className="batch-main">
          <BatchPicture
            session={session !== null}
            step={step}
            status={selection.status}
            detail={selection.detail}
            frame={shown}
            labels={labels}
            vectorsFrom={row?.step === step ? row.vectorsFrom : null}
            digit={digit}
          />
        </div>
        <aside className="batch-side" aria-label="Batch details">
          <DigitCounts labels={labels} digit={digit} onDigit={setDigit} testId="inspect-label-counts" />
          <ScalarList frame={current} history={history} step={step} />
        </aside>
      </div>
    </section>
  );
}

function BatchPicture(props: {
  session: boolean;
  step: number | null;
  status: string;
  detail: string | null;
  frame: StepFrame | null;
  labels: ArrayLike<number> | null;
  /** The first step whose labels the trainer still keeps (for an evicted step). */
  vectorsFrom: number | null;
  digit: number | null;
}) {
  const { step, status, frame } = props;
  if (!props.session) {
    return <BatchPlaceholder title="No session" text="Pick a condition above, or press Start session." />;
  }
  if (step === null) {
    return <BatchPlaceholder title="Nothing run yet" text="Press Step to run one real batch; its 128 images appear here." testId="inspect-batch-empty" />;
  }
  if (status === "evicted") {
    return (
      <div className="batch-placeholder evicted" data-testid="inspect-evicted" data-step={step}>
        <svg className="empty-icon" viewBox="0 0 24 24" aria-hidden="true">
          <path d="M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" strokeLinejoin="round" />
        </svg>
        <p className="empty-title">Full tensors of step {formatCount(step)} were evicted</p>
        <p className="empty-text">{props.detail}</p>
        <p className="empty-text">
          {props.vectorsFrom !== null && step < props.vectorsFrom
            ? `Its loss and scalars come from the history; labels are kept from step ${formatCount(props.vectorsFrom)} on.`
            : "Its loss, labels and scalars come from the history."}
        </p>
      </div>
    );
  }
  if (status === "error" && !frame) {
    return <BatchPlaceholder title={`Step ${formatCount(step)} could not be loaded`} text={props.detail ?? ""} />;
  }
  const image = frame?.images[IMAGES];
  if (!frame || !image) {
    return <div className="batch-placeholder loading" data-testid="inspect-batch-loading"><span className="spinner" aria-hidden="true" /> Loading step {formatCount(step)}…</div>;
  }
  return (
    <BatchGrid
      image={image}
      step={frame.step}
      loading={status === "loading"}
      labels={props.labels}
      digit={props.digit}
      initialWidth={930}
      testId="inspect-batch-grid"
      tooltipTestId="inspect-batch-tooltip"
    />
  );
}

function ScalarList(props: { frame: StepFrame | null; history: InspectHistory; step: number | null }) {
  return (
    <div className="side-block">
      <h3 className="side-title">Scalars</h3>
      <dl className="scalar-list" data-testid="inspect-scalars">
        {SIDE_SCALARS.filter(
          // Only the scalars this session captures (a BCL step has no VQ losses and back).
          (key) => (props.frame ? key in props.frame.header.scalars : key in props.history.columns),
        ).map((key) => {
          const fromFrame = props.frame ? frameScalar(props.frame, key) : null;
          const fromHistory = props.step ? historyValue(props.history, key, props.step) : undefined;
          const value = fromFrame ?? (typeof fromHistory === "number" ? fromHistory : null);
          return (
            <div key={key} className="scalar-row" title={KEY_META[key].description}>
              <dt className="mono">{key}</dt>
              <dd className="mono" data-key={key}>
                {props.step ? formatValue(value) : "—"}
              </dd>
            </div>
          );
        })}
      </dl>
    </div>
  );
}

/**
 * The step's labels: from its frame when loaded, else from its history row (asked for when its
 * full data is gone; null when the trainer no longer keeps vectors that old).
 */
function labelsOf(frame: StepFrame | null, row: InspectStepRow | null, step: number | null): ArrayLike<number> | null {
  const tensor = frame?.tensors[LABELS];
  if (tensor) return tensor.data;
  if (step === null || row?.step !== step) return null;
  const value = row.values[LABELS];
  return Array.isArray(value) ? value.map((v) => v ?? -1) : null;
}
