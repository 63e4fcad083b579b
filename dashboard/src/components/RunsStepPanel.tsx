import { useStore } from "@nanostores/react";
import { type PointerEvent, useEffect, useMemo, useState } from "react";

import { formatBytes, formatCount, formatValue } from "../lib/format";
import { $run, $runFrame, $runStep } from "../lib/runs-store";
import { type FrameImage, frameScalar } from "../lib/tensor-frame";
import { useElementWidth } from "../lib/use-element-width";

/**
 * The step taken with Step while paused: its batch grid, step number, loss and digits, and below
 * them the full data of the step in the inspector views.
 */
export default function RunsStepPanel() {
  const run = useStore($run, { ssr: () => null });
  const shown = useStore($runFrame, { ssr: "initial" });
  const latest = useStore($runStep, { ssr: () => 0 });
  const [digit, setDigit] = useState<number | null>(null);

  const frame = shown && run && shown.runId === run.run_id ? shown.frame : null;
  const labels = frame?.tensors.batch_labels?.data ?? null;
  const image = frame?.images.batch_images ?? null;
  const loss = frame ? frameScalar(frame, "loss") : null;
  const behind = frame !== null && latest > frame.step;

  return (
    <section className="card runs-step-card" aria-labelledby="runs-step-title" data-testid="runs-step-panel" data-step={frame?.step ?? ""}>
      <header className="card-head">
        <h2 id="runs-step-title">
          Stepped batch
          {frame && <span className="card-head-step">step {formatCount(frame.step)}</span>}
          {behind && (
            <span className="tag" title="The run has moved on since this step">
              run is at {formatCount(latest)}
            </span>
          )}
        </h2>
        <span className="muted card-head-meta">
          {frame && image ? (
            <>
              {image.count} images · frame {formatBytes(frame.byteLength)} ·{" "}
              <a href="#runs-step-views" data-testid="runs-views-link">
                every tensor of this step ↓
              </a>
            </>
          ) : (
            "Pause, then Step: one batch at a time"
          )}
        </span>
      </header>

      {!frame || !image ? (
        <div className="runs-step-empty">
          <div className="batch-placeholder runs-batch-placeholder" data-testid="runs-batch-empty">
            <svg className="empty-icon" viewBox="0 0 24 24" aria-hidden="true">
              <rect x="3.5" y="3.5" width="7" height="7" rx="1.5" fill="none" stroke="currentColor" strokeWidth="1.6" />
              <rect x="13.5" y="3.5" width="7" height="7" rx="1.5" fill="none" stroke="currentColor" strokeWidth="1.6" />
              <rect x="3.5" y="13.5" width="7" height="7" rx="1.5" fill="none" stroke="currentColor" strokeWidth="1.6" />
              <rect x="13.5" y="13.5" width="7" height="7" rx="1.5" fill="none" stroke="currentColor" strokeWidth="1.6" />
            </svg>
            <p className="empty-title">{emptyTitle(run?.status)}</p>
            <p className="empty-text">{emptyText(run?.status)}</p>
          </div>
        </div>
      ) : (
        <div className="batch-body runs-step-body">
            <div className="batch-main">
              <BatchGrid image={image} step={frame.step} labels={labels} digit={digit} />
            </div>
            <aside className="batch-side" aria-label="Step details">
              <div className="side-block">
                <h3 className="side-title">This step</h3>
                <dl className="runs-step-facts">
                  <div>
                    <dt>Step</dt>
                    <dd className="mono" data-testid="runs-stepped-step">
                      {formatCount(frame.step)}
                    </dd>
                  </div>
                  <div>
                    <dt>Loss</dt>
                    <dd className="mono" data-testid="runs-stepped-loss">
                      {formatValue(loss)}
                    </dd>
                  </div>
                  <div>
                    <dt>Condition</dt>
                    <dd className="mono">{frame.header.condition}</dd>
                  </div>
                </dl>
              </div>
              <LabelCounts labels={labels} digit={digit} onDigit={setDigit} />
            </aside>
        </div>
      )}
    </section>
  );
}

/** An object URL for encoded bytes, revoked when the bytes change or the view goes away. */
function useObjectUrl(bytes: Uint8Array, mime: string): string {
  const url = useMemo(() => URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mime })), [bytes, mime]);
  useEffect(() => () => URL.revokeObjectURL(url), [url]);
  return url;
}

/** The batch as one PNG grid from the frame, pixel-exact when it fits at 2×; hover names image and digit. */
function BatchGrid(props: { image: FrameImage; step: number; labels: ArrayLike<number> | null; digit: number | null }) {
  const { image, labels, digit } = props;
  const url = useObjectUrl(image.bytes, image.mime);
  const [boxRef, available] = useElementWidth<HTMLDivElement>(760);
  const [hover, setHover] = useState<number | null>(null);

  const [tileH, tileW] = image.tile;
  const pad = image.padding;
  const rows = Math.ceil(image.count / image.columns);
  const naturalW = image.columns * (tileW + pad) + pad;
  const naturalH = rows * (tileH + pad) + pad;
  const scale = available >= naturalW * 2 ? 2 : Math.max(0.5, available / naturalW);

  const tileBox = (index: number) => ({
    left: (pad + (index % image.columns) * (tileW + pad)) * scale,
    top: (pad + Math.floor(index / image.columns) * (tileH + pad)) * scale,
    width: tileW * scale,
    height: tileH * scale,
  });

  const onMove = (event: PointerEvent<HTMLDivElement>) => {
    const box = event.currentTarget.getBoundingClientRect();
    const col = Math.floor(((event.clientX - box.left) / scale - pad) / (tileW + pad));
    const row = Math.floor(((event.clientY - box.top) / scale - pad) / (tileH + pad));
    const index = row * image.columns + col;
    setHover(col >= 0 && col < image.columns && row >= 0 && index < image.count ? index : null);
  };

  return (
    <div className="batch-grid-box" ref={boxRef}>
      <div className="batch-grid-frame" style={{ width: naturalW * scale, height: naturalH * scale }} onPointerMove={onMove} onPointerLeave={() => setHover(null)}>
        <img
          className={Number.isInteger(scale) ? "batch-grid crisp" : "batch-grid"}
          src={url}
          width={naturalW * scale}
          height={naturalH * scale}
          alt={`The ${image.count} input images of step ${props.step}`}
          draggable={false}
          data-testid="runs-batch-grid"
          data-step={props.step}
        />
        {digit !== null && labels && (
          <div className="batch-dim-layer" aria-hidden="true">
            {Array.from({ length: image.count }, (_, i) => (labels[i] === digit ? null : <span key={i} className="batch-dim" style={tileBox(i)} />))}
          </div>
        )}
        {hover !== null && (
          <>
            <span className="batch-hover" style={tileBox(hover)} aria-hidden="true" />
            <span className="batch-tooltip" style={{ left: tileBox(hover).left + (tileW * scale) / 2, top: tileBox(hover).top }}>
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
      <ul className="label-bars" onPointerLeave={() => props.onDigit(null)} data-testid="runs-label-counts">
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
    </div>
  );
}

function emptyTitle(status: string | undefined): string {
  if (status === "paused") return "Paused — press Step";
  if (status === "running") return "No stepped batch yet";
  if (status) return "The run has ended";
  return "No run yet";
}

function emptyText(status: string | undefined): string {
  if (status === "paused") return "Step advances exactly one batch and shows its images, loss and every tensor here.";
  if (status === "running") return "Pause the run, then Step through it one batch at a time; each step's batch and tensors open here.";
  if (status) return "Start a new run, pause it and Step through it to see each batch here.";
  return "Start a run, pause it, then Step: each batch and its tensors open here.";
}
