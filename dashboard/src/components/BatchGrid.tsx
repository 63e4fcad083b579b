// The batch of one training step, shared by the inspector and the runs page: the PNG grid of its
// input images (hover names image and digit), the per-digit counts beside it (hover highlights
// a digit's images), and the placeholder shown while there is no batch.
import { type PointerEvent, useEffect, useMemo, useState } from "react";

import type { FrameImage } from "../lib/tensor-frame";
import { useElementWidth } from "../lib/use-element-width";

/** An object URL for encoded bytes, revoked when the bytes change or the view goes away. */
function useObjectUrl(bytes: Uint8Array, mime: string): string {
  const url = useMemo(() => URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mime })), [bytes, mime]);
  useEffect(() => () => URL.revokeObjectURL(url), [url]);
  return url;
}

/** The batch as one PNG grid from the frame, pixel-exact when it fits at 2×; hover names image and digit. */
export default function BatchGrid(props: {
  image: FrameImage;
  step: number;
  labels: ArrayLike<number> | null;
  /** The digit whose images stay lit (the others are dimmed); null for none. */
  digit: number | null;
  /** The width assumed before the box is measured. */
  initialWidth: number;
  testId: string;
  tooltipTestId?: string;
  /** A newer step is loading: the grid fades and says so. */
  loading?: boolean;
}) {
  const { image, labels, digit } = props;
  const url = useObjectUrl(image.bytes, image.mime);
  const [boxRef, available] = useElementWidth<HTMLDivElement>(props.initialWidth);
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
          data-testid={props.testId}
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
              data-testid={props.tooltipTestId}
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

/** How many images of each digit the batch holds; hovering a digit lights its images up. */
export function DigitCounts(props: {
  /** The batch's labels; null shows a dash. */
  labels: ArrayLike<number> | null;
  digit: number | null;
  onDigit: (d: number | null) => void;
  testId: string;
}) {
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
        <ul className="label-bars" onPointerLeave={() => props.onDigit(null)} data-testid={props.testId}>
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

/** The grid's place while there is no batch to show: a grid icon, a title and a hint. */
export function BatchPlaceholder(props: { title: string; text: string; testId?: string; className?: string }) {
  return (
    <div className={props.className ? `batch-placeholder ${props.className}` : "batch-placeholder"} data-testid={props.testId}>
      <svg className="empty-icon" viewBox="0 0 24 24" aria-hidden="true">
        <rect x="3.5" y="3.5" width="7" height="7" rx="1.5" fill="none" stroke="currentColor" strokeWidth="1.6" />
        <rect x="13.5" y="3.5" width="7" height="7" rx="1.5" fill="none" stroke="currentColor" strokeWidth="1.6" />
        <rect x="3.5" y="13.5" width="7" height="7" rx="1.5" fill="none" stroke="currentColor" strokeWidth="1.6" />
        <rect x="13.5" y="13.5" width="7" height="7" rx="1.5" fill="none" stroke="currentColor" strokeWidth="1.6" />
      </svg>
      <p className="empty-title">{props.title}</p>
      <p className="empty-text">{props.text}</p>
    </div>
  );
}
