import { memo, useState } from "react";

import { formatCount } from "../../lib/format";
import type { ValueScale } from "../../lib/generated/tensor-keys";
import { useTensorGrid } from "../../lib/views/step-tensors";
import type { StepFrame } from "../../lib/tensor-frame";
import { Figure, viewTestId } from "./parts";
import WeightGrid from "./WeightGrid";

/** Features a page shows: 64 thumbnails of 784 values read exactly (200 KB). */
export const FEATURE_PAGE = 64;

export interface PagedWeightGridProps {
  frame: StepFrame;
  tensorKey: string;
  /** The tensor's [D, P] (from the frame's `deferred` list). */
  shape: readonly [number, number];
  scale: ValueScale;
  focused?: number | null;
  marked?: readonly number[] | null;
  onSelectFeature?: (feature: number) => void;
  description?: string;
  maxWidth?: number;
  place?: string;
}

/**
 * A [D, P] tensor the step's frame left out, a page of `FEATURE_PAGE` features at a time, each
 * page read exactly (rows first..last, every pixel). The page follows the focused feature.
 */
function PagedWeightGrid(props: PagedWeightGridProps) {
  const { frame, tensorKey } = props;
  const [d, pixels] = props.shape;
  const pages = Math.max(1, Math.ceil(d / FEATURE_PAGE));
  const [page, setPage] = useState(0);
  const focused = props.focused ?? null;
  // A newly focused feature on another page brings its page (state adjusted while rendering).
  const [followed, setFollowed] = useState<number | null>(null);
  if (focused !== followed) {
    setFollowed(focused);
    if (focused !== null && focused < d && Math.floor(focused / FEATURE_PAGE) !== page) setPage(Math.floor(focused / FEATURE_PAGE));
  }
  const shown = Math.min(page, pages - 1);
  const first = shown * FEATURE_PAGE;
  const last = Math.min(d, first + FEATURE_PAGE);
  const state = useTensorGrid(frame, tensorKey, { rows: last - first, cols: pixels, window: [first, last, 0, pixels] });

  const pager =
    pages > 1 ? (
      <span className="wg-pager" data-testid={viewTestId("pager", tensorKey, props.place)}>
        <button type="button" className="btn btn-icon" aria-label="Previous features" disabled={shown === 0} onClick={() => setPage(shown - 1)} data-testid={viewTestId("page-prev", tensorKey, props.place)}>
          ‹
        </button>
        <span className="mono" data-testid={viewTestId("page-label", tensorKey, props.place)}>
          {formatCount(first)}–{formatCount(last - 1)} of {formatCount(d)}
        </span>
        <button type="button" className="btn btn-icon" aria-label="Next features" disabled={shown >= pages - 1} onClick={() => setPage(shown + 1)} data-testid={viewTestId("page-next", tensorKey, props.place)}>
          ›
        </button>
      </span>
    ) : null;

  if (state.status === "ready" && state.grid.exact) {
    return (
      <WeightGrid
        tensorKey={tensorKey}
        place={props.place}
        step={frame.step}
        data={state.grid.mean}
        rows={last - first}
        first={first}
        total={d}
        pixels={pixels}
        scale={props.scale}
        focused={focused}
        marked={props.marked}
        onSelectFeature={props.onSelectFeature}
        description={props.description}
        maxWidth={props.maxWidth}
        pager={pager}
      />
    );
  }
  const message = state.status === "loading" ? `loading features ${first}–${last - 1}…` : state.status === "ready" ? `${pixels} values per feature are too many to read exactly` : state.message;
  return (
    <Figure tensorKey={tensorKey} view="weight-grid" step={frame.step} place={props.place} shape={props.shape} description={props.description}>
      {pager}
      <div className={state.status === "loading" ? "view-loading" : "view-loading bad"} style={{ height: 120 }} data-testid={viewTestId("loading", tensorKey, props.place)} role="status">
        {message}
      </div>
    </Figure>
  );
}

export default memo(PagedWeightGrid);
