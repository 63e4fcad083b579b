import { useStore } from "@nanostores/react";
import { type FocusEvent, type KeyboardEvent, memo, useCallback, useEffect, useMemo, useRef, useState, type PointerEvent } from "react";

import { $darkScheme } from "../../lib/color-scheme-store";
import type { ValueScale } from "../../lib/generated/tensor-keys";
import { gridStep, isActivationKey } from "../../lib/keyboard-nav";
import { useRovingList } from "../../lib/use-roving-list";
import { formatExact } from "../../lib/views/axes";
import { domainFor, finiteRange, lutFor, mapFor } from "../../lib/views/colour";
import { paintTiles, squareSide, tileAt, tileLayout } from "../../lib/views/tiles";
import type { FrameTensor } from "../../lib/tensor-frame";
import { Figure, HoverTip, usePaintedCanvas } from "./parts";

export interface NeighbourhoodsProps {
  tensorKey: string;
  step: number;
  /** [D, k] neighbour indices. */
  neighbors: FrameTensor;
  /** [D, P] weights the thumbnails are drawn from (the encoder weights of the step). */
  weights: FrameTensor | null;
  weightsKey: string;
  weightScale: ValueScale;
  /** [D, D] cosine of the weights, to say how close each neighbour is (optional). */
  cosine: FrameTensor | null;
  focused?: number | null;
  onSelectFeature?: (feature: number) => void;
  description?: string;
  /** Where the view sits (a trace section's id): part of its test ids. */
  place?: string;
}

const SPLIT = 6; // px between a feature and its neighbours
const ZOOM = 2;
const VISIBLE_ROWS = 8;

/**
 * Each feature beside its k neighbours, as thumbnails of the weights; a list that scrolls. A click
 * on a thumbnail selects its feature; from the keyboard (one tab stop) the arrow keys move a
 * cursor over the thumbnails and Enter or Space selects. Without weights, a table of indices whose
 * rows select the same way (a roving tabindex).
 */
function Neighbourhoods(props: NeighbourhoodsProps) {
  const { neighbors, weights } = props;
  const [d, k] = neighbors.shape;
  const dark = useStore($darkScheme, { ssr: "initial" });
  const [hover, setHover] = useState<{ slot: number; x: number; y: number } | null>(null);
  const scrollRef = useRef<HTMLDivElement>(null);
  const features = useMemo(() => Array.from({ length: d }, (_, f) => f), [d]);
  const select = (f: number) => props.onSelectFeature?.(f);
  const { ref: rowsRef, tabbable, onKeyDown: onRowsKeyDown, onFocus: onRowsFocus } = useRovingList<HTMLTableSectionElement>(features, props.focused ?? null, select);

  const pixels = weights ? weights.shape[1] : 0;
  const side = squareSide(pixels) ?? 0;
  const layout = useMemo(() => tileLayout(d * (k + 1), k + 1, side || 1, 1, SPLIT), [d, k, side]);
  // Slot (f, 0) is feature f itself, (f, j) its j-th neighbour.
  const slots = useMemo(() => {
    const out = new Int32Array(d * (k + 1));
    for (let f = 0; f < d; f++) {
      out[f * (k + 1)] = f;
      for (let j = 0; j < k; j++) out[f * (k + 1) + 1 + j] = neighbors.data[f * k + j];
    }
    return out;
  }, [neighbors, d, k]);
  const domain = useMemo(() => (weights ? domainFor(props.weightScale, finiteRange(weights.data)) : null), [weights, props.weightScale]);
  const lut = lutFor(mapFor(props.weightScale, "image"), dark);
  const canvasRef = usePaintedCanvas(
    weights && side ? layout.width : 0,
    weights && side ? layout.height : 0,
    (out) => weights && domain && paintTiles(weights.data, slots, layout, out, lut, () => domain),
    [weights, slots, layout, lut, domain],
  );

  // Bring a row into view (within the list only; the page does not move): the focused feature's,
  // and the keyboard cursor's.
  const focused = props.focused ?? null;
  const reveal = useCallback(
    (row: number) => {
      const box = scrollRef.current;
      if (!box || row >= d) return;
      const rowTop = (layout.rowY[row] - 1) * ZOOM;
      const rowH = (side + 1) * ZOOM;
      if (rowTop < box.scrollTop || rowTop + rowH > box.scrollTop + box.clientHeight) box.scrollTop = rowTop - rowH;
    },
    [d, layout, side],
  );
  useEffect(() => {
    if (focused !== null) reveal(focused);
  }, [focused, reveal]);

  if (!weights || !side) {
    // No pictures to draw: the indices as a table.
    return (
      <Figure
        tensorKey={props.tensorKey}
        view="neighbourhoods"
        step={props.step}
        place={props.place}
        shape={[d, k]}
        description={props.description}
      >
        <div className="nb-table-box">
          <table className="nb-table mono" role="grid" aria-readonly="true" aria-label={`each feature's ${k} nearest neighbours: arrow keys move, Enter focuses the feature`}>
            <tbody ref={rowsRef} onKeyDown={onRowsKeyDown} onFocus={onRowsFocus}>
              {features.map((f) => (
                <tr
                  key={f}
                  className={f === focused ? "focused" : undefined}
                  data-feature={f}
                  data-testid="neighbourhood-row"
                  aria-selected={f === focused}
                  aria-label={`feature ${f}`}
                  tabIndex={f === tabbable ? 0 : -1}
                  onClick={() => select(f)}
                >
                  <th>{f}</th>
                  {Array.from({ length: k }, (_, j) => (
                    <td key={j}>{neighbors.data[f * k + j]}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Figure>
    );
  }

  const width = layout.width * ZOOM;
  const height = layout.height * ZOOM;
  const onMove = (event: PointerEvent<HTMLDivElement>) => {
    const box = event.currentTarget.getBoundingClientRect();
    const x = (event.clientX - box.left) / ZOOM;
    const y = (event.clientY - box.top) / ZOOM;
    const at = tileAt(layout, x, y);
    setHover(at ? { slot: at.slot, x: event.clientX - box.left, y: event.clientY - box.top } : null);
  };
  const slotFeature = (slot: number) => slots[slot];
  const rowOf = (slot: number) => Math.floor(slot / (k + 1));

  // The keyboard's cursor is the hover thumbnail; it starts on the focused feature's row.
  const cursorAt = (slot: number) => {
    const col = slot % (k + 1);
    const row = rowOf(slot);
    setHover({ slot, x: (layout.colX[col] + side / 2) * ZOOM, y: (layout.rowY[row] + side / 2) * ZOOM });
    reveal(row);
  };
  const start = () => (focused !== null && focused < d ? focused * (k + 1) : 0);
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.altKey || event.metaKey) return;
    if (isActivationKey(event.key)) {
      if (!hover) return;
      event.preventDefault();
      select(slotFeature(hover.slot));
      return;
    }
    if (event.key === "Escape") {
      setHover(null);
      return;
    }
    const next = gridStep(event.key, hover ? hover.slot : start(), d * (k + 1), k + 1, { ctrl: event.ctrlKey, pageRows: VISIBLE_ROWS });
    if (next === null) return;
    event.preventDefault();
    cursorAt(next);
  };
  const onFocus = (event: FocusEvent<HTMLDivElement>) => {
    // A keyboard focus shows the cursor at once; a click's focus leaves it to the pointer.
    if (!hover && event.currentTarget.matches(":focus-visible")) cursorAt(start());
  };

  let tip = null;
  if (hover) {
    const f = rowOf(hover.slot);
    const j = hover.slot % (k + 1);
    const g = slotFeature(hover.slot);
    const cos = props.cosine && j > 0 ? props.cosine.data[f * props.cosine.shape[1] + g] : null;
    tip = (
      <HoverTip x={hover.x + 14} y={hover.y} frameWidth={width} testId="neighbourhood-tooltip" data={{ feature: g, row: f }}>
        {j === 0 ? (
          <span className="vtip-head">
            feature <strong>{f}</strong>
          </span>
        ) : (
          <>
            <span className="vtip-head">
              feature <strong>{g}</strong>
            </span>
            <span className="vtip-sub">
              neighbour {j} of feature {f}
              {cos !== null && (
                <>
                  {" "}
                  · cos <span className="mono">{formatExact(cos)}</span>
                </>
              )}
            </span>
          </>
        )}
        <span className="vtip-note">click or Enter to focus</span>
      </HoverTip>
    );
  }

  const tile = (slot: number) => {
    const col = slot % (k + 1);
    const row = Math.floor(slot / (k + 1));
    return { left: (layout.colX[col] - 1) * ZOOM, top: (layout.rowY[row] - 1) * ZOOM, width: (side + 2) * ZOOM, height: (side + 2) * ZOOM };
  };

  return (
    <Figure
      tensorKey={props.tensorKey}
      view="neighbourhoods"
      step={props.step}
      place={props.place}
      shape={[d, k]}
      description={props.description}
      className="vfig-neighbourhoods"
    >
      <div className="nb-head mono" style={{ paddingLeft: 40 }}>
        <span style={{ width: (side + 1) * ZOOM + SPLIT * ZOOM }}>feature</span>
        <span>its {k} neighbours, most similar first</span>
      </div>
      <div className="nb-scroll" ref={scrollRef} style={{ maxHeight: VISIBLE_ROWS * (side + 1) * ZOOM + 2 }} data-testid="neighbourhood-list">
        <div className="nb-rows">
          <div className="nb-labels mono" aria-hidden="true">
            {Array.from({ length: d }, (_, f) => (
              <span key={f} className={f === focused ? "focused" : undefined} style={{ top: layout.rowY[f] * ZOOM, height: side * ZOOM }}>
                {f}
              </span>
            ))}
          </div>
          <div
            className="nb-frame selectable"
            style={{ width, height }}
            onPointerMove={onMove}
            onPointerLeave={() => setHover(null)}
            onClick={() => hover && props.onSelectFeature?.(slotFeature(hover.slot))}
            {...(props.onSelectFeature && {
              tabIndex: 0,
              role: "application",
              "aria-roledescription": "feature picker",
              "aria-label": `each of ${d} features beside its ${k} nearest neighbours: arrow keys move between thumbnails, Enter focuses one`,
              onKeyDown,
              onFocus,
              onBlur: () => setHover(null),
            })}
          >
            <canvas
              ref={canvasRef}
              className="nb-canvas"
              style={{ width, height }}
              data-testid="neighbourhood-canvas"
              data-key={props.tensorKey}
              data-step={props.step}
              role="img"
              aria-label={`each of ${d} features beside its ${k} nearest neighbours (${props.weightsKey})`}
            />
            {focused !== null && focused < d && (
              <span className="nb-focus-row" style={{ top: (layout.rowY[focused] - 1) * ZOOM, height: (side + 2) * ZOOM }} />
            )}
            {hover && <span className="wg-hover" style={tile(hover.slot)} />}
            {tip}
          </div>
        </div>
      </div>
    </Figure>
  );
}

export default memo(Neighbourhoods);
