import { useStore } from "@nanostores/react";
import { useEffect, useMemo, useState, type PointerEvent } from "react";

import { formatBytes, formatCount, formatValue } from "../lib/format";
import { KEY_META, StepTensorKey, type StepTensorKey as Key } from "../lib/generated/tensor-keys";
import {
  $inspectFrame,
  $inspectHistory,
  $inspectSelection,
  $inspectSession,
  historyValue,
  type InspectHistory,
} from "../lib/inspect-store";
import { frameScalar, type FrameImage, type StepFrame } from "../lib/tensor-frame";
import { useElementWidth } from "../lib/use-element-width";

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
  const [digit, setDigit] = useState<number | null>(null);

  const step = selection.step;
  const shown = frame && (frame.step === step || selection.status === "loading") ? frame : null;
  const current = shown && shown.step === step ? shown : null;
  const labels = useMemo(() => labelsOf(current, history, step), [current, history, step]);

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
          <BatchPicture session={session !== null} step={step} status={selection.status} detail={selection.detail} frame={shown} labels={labels} digit={digit} />
        </div>
        <aside className="batch-side" aria-label="Batch details">
          <LabelCounts labels={labels} digit={digit} onDigit={setDigit} />
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
  digit: number | null;
}) {
  const { step, status, frame } = props;
  if (!props.session) {
    return <Placeholder title="No session" text="Pick a condition above, or press Start session." />;
  }
  if (step === null) {
    return <Placeholder title="Nothing run yet" text="Press Step to run one real batch; its 128 images appear here." testId="inspect-batch-empty" />;
  }
  if (status === "evicted") {
    return (
      <div className="batch-placeholder evicted" data-testid="inspect-evicted" data-step={step}>
        <svg className="empty-icon" viewBox="0 0 24 24" aria-hidden="true">
          <path d="M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" strokeLinejoin="round" />
        </svg>
        <p className="empty-title">Full tensors of step {formatCount(step)} were evicted</p>
        <p className="empty-text">{props.detail}</p>
        <p className="empty-text">Its loss, labels and scalars come from the history.</p>
      </div>
    );
  }
  if (status === "error" && !frame) {
    return <Placeholder title={`Step ${formatCount(step)} could not be loaded`} text={props.detail ?? ""} />;
  }
  const image = frame?.images[IMAGES];
  if (!frame || !image) {
    return <div className="batch-placeholder loading" data-testid="inspect-batch-loading"><span className="spinner" aria-hidden="true" /> Loading step {formatCount(step)}…</div>;
  }
  return <GridImage image={image} step={frame.step} loading={status === "loading"} labels={props.labels} digit={props.digit} />;
}

function Placeholder({ title, text, testId }: { title: string; text: string; testId?: string }) {
  return (
    <div className="batch-placeholder" data-testid={testId}>
      <svg className="empty-icon" viewBox="0 0 24 24" aria-hidden="true">
        <rect x="3.5" y="3.5" width="7" height="7" rx="1.5" fill="none" stroke="currentColor" strokeWidth="1.6" />
        <rect x="13.5" y="3.5" width="7" height="7" rx="1.5" fill="none" stroke="currentColor" strokeWidth="1.6" />
        <rect x="3.5" y="13.5" width="7" height="7" rx="1.5" fill="none" stroke="currentColor" strokeWidth="1.6" />
        <rect x="13.5" y="13.5" width="7" height="7" rx="1.5" fill="none" stroke="currentColor" strokeWidth="1.6" />
      </svg>
      <p className="empty-title">{title}</p>
      <p className="empty-text">{text}</p>
    </div>
  );
}

/** An object URL for encoded bytes, revoked when the bytes change or the view goes away. */
function useObjectUrl(bytes: Uint8Array, mime: string): string {
  const url = useMemo(() => URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mime })), [bytes, mime]);
  useEffect(() => () => URL.revokeObjectURL(url), [url]);
  return url;
}

function GridImage(props: { image: FrameImage; step: number; loading: boolean; labels: ArrayLike<number> | null; digit: number | null }) {
  const { image, labels, digit } = props;
  const url = useObjectUrl(image.bytes, image.mime);
  const [boxRef, available] = useElementWidth<HTMLDivElement>(930);
  const [hover, setHover] = useState<number | null>(null);

  const [tileH, tileW] = image.tile;
  const pad = image.padding;
  const rows = Math.ceil(image.count / image.columns);
  const naturalW = image.columns * (tileW + pad) + pad;
  const naturalH = rows * (tileH + pad) + pad;
  // Whole-pixel zoom keeps every digit pixel square; below 2× the picture is fitted smoothly.
  const scale = available >= naturalW * 2 ? 2 : Math.max(0.5, available / naturalW);
  const crisp = Number.isInteger(scale);

  const tileBox = (index: number) => ({
    left: (pad + (index % image.columns) * (tileW + pad)) * scale,
    top: (pad + Math.floor(index / image.columns) * (tileH + pad)) * scale,
    width: tileW * scale,
    height: tileH * scale,
  });

  const onMove = (event: PointerEvent<HTMLDivElement>) => {
    const box = event.currentTarget.getBoundingClientRect();
    const px = (event.clientX - box.left) / scale - pad;
    const py = (event.clientY - box.top) / scale - pad;
    const col = Math.floor(px / (tileW + pad));
    const row = Math.floor(py / (tileH + pad));
    const index = row * image.columns + col;
    const inside = col >= 0 && col < image.columns && row >= 0 && index < image.count;
    setHover(inside ? index : null);
  };

  return (
    <div className="batch-grid-box" ref={boxRef}>
      <div
        className={props.loading ? "batch-grid-frame is-loading" : "batch-grid-frame"}
        style={{ width: naturalW * scale, height: naturalH * scale }}
        onPointerMove={onMove}
        onPointerLeave={() => setHover(null)}
      >
        <img
          className={crisp ? "batch-grid crisp" : "batch-grid"}
          src={url}
          width={naturalW * scale}
          height={naturalH * scale}
          alt={`The ${image.count} input images of step ${props.step}`}
          draggable={false}
          data-testid="inspect-batch-grid"
          data-step={props.step}
        />
        {digit !== null && labels && (
          <div className="batch-dim-layer" aria-hidden="true">
            {Array.from({ length: image.count }, (_, i) =>
              labels[i] === digit ? null : <span key={i} className="batch-dim" style={tileBox(i)} />,
            )}
          </div>
        )}
        {hover !== null && (
          <>
            <span className="batch-hover" style={tileBox(hover)} aria-hidden="true" />
            <span
              className="batch-tooltip"
              style={{ left: tileBox(hover).left + (tileW * scale) / 2, top: tileBox(hover).top }}
              data-testid="inspect-batch-tooltip"
            >
              image <strong>{hover}</strong>
              {labels && labels[hover] !== undefined && (
                <>
                  {" "}
                  · digit <strong>{labels[hover]}</strong>
                </>
              )}
            </span>
          </>
        )}
        {props.loading && (
          <span className="batch-loading-chip">
            <span className="spinner spinner-sm" aria-hidden="true" /> loading…
          </span>
        )}
      </div>
    </div>
  );
}

function LabelCounts(props: { labels: ArrayLike<number> | null; digit: number | null; onDigit: (d: number | null) => void }) {
  const counts = new Array<number>(10).fill(0);
  if (props.labels) {
    for (let i = 0; i < props.labels.length; i++) {
      const label = props.labels[i];
      if (label >= 0 && label < 10) counts[label]++;
    }
  }
  const most = Math.max(1, ...counts);
  return (
    <div className="side-block">
      <h3 className="side-title">Digits in the batch</h3>
      {props.labels ? (
        <ul className="label-bars" onPointerLeave={() => props.onDigit(null)} data-testid="inspect-label-counts">
          {counts.map((count, d) => (
            <li
              key={d}
              className={props.digit === d ? "label-bar active" : "label-bar"}
              onPointerEnter={() => props.onDigit(d)}
              title={`${count} images of digit ${d} (hover to highlight them)`}
            >
              <span className="label-digit mono">{d}</span>
              <span className="label-track">
                <span className="label-fill" style={{ width: `${(count / most) * 100}%` }} />
              </span>
              <span className="label-count mono">{count}</span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="side-empty">—</p>
      )}
    </div>
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

/** The step's labels: from its frame when loaded, else from the history (kept for every step). */
function labelsOf(frame: StepFrame | null, history: InspectHistory, step: number | null): ArrayLike<number> | null {
  const tensor = frame?.tensors[LABELS];
  if (tensor) return tensor.data;
  if (step === null) return null;
  const value = historyValue(history, LABELS, step);
  return Array.isArray(value) ? value.map((v) => v ?? -1) : null;
}
