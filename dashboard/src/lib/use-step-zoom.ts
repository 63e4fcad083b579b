// Zooming a step-indexed SVG chart, the same way on every chart that has it (the inspector's loss
// timeline, the runs page's loss and trajectory charts): drag across the plot to zoom into those
// steps, Ctrl+wheel (or a trackpad pinch) zooms around the pointer, a sideways wheel pans a zoomed
// chart, a double-click (or `reset()`) shows every step again. The window arithmetic is in
// timeline.ts; this hook holds the window and turns pointer and wheel events into it.
import { type MouseEvent, type PointerEvent, type RefCallback, useCallback, useLayoutEffect, useMemo, useRef, useState } from "react";

import { dragWindow, panBy, type StepWindow, zoomAround, zoomedWindow } from "./timeline";

/** A pointer that moves this far (px) between press and release zooms instead of clicking. */
export const DRAG_PX = 6;
/** One notch of Ctrl+wheel zooms by this factor. */
export const WHEEL_ZOOM = 0.8;

/** Where the plot is inside the SVG, horizontally (px). */
export interface PlotSpan {
  left: number;
  width: number;
}

export interface StepZoom {
  /** The steps the chart shows: the zoom window, or `full` when not zoomed (null without data). */
  shown: StepWindow | null;
  zoomed: boolean;
  /** Show every step again. */
  reset: () => void;
  /** The drag in progress, in SVG pixels (draw it as a band), or null. */
  drag: { from: number; to: number } | null;
  /** Put on the chart's <svg>: it listens to the wheel (not passively, to keep the page still). */
  svgRef: RefCallback<SVGSVGElement>;
  /** Put on the chart's <svg> (a chart with its own pointer handlers calls these from them). */
  handlers: {
    onPointerDown: (event: PointerEvent<SVGSVGElement>) => void;
    onPointerMove: (event: PointerEvent<SVGSVGElement>) => void;
    onPointerUp: (event: PointerEvent<SVGSVGElement>) => void;
    onPointerCancel: () => void;
    onDoubleClick: () => void;
  };
  /**
   * For a chart whose click does something (loads a step): true when this click ended a drag (that
   * zoomed) or is the second of a double-click (that resets), so the click should do nothing.
   */
  swallowClick: (event: MouseEvent) => boolean;
}

/**
 * The zoom of a chart over `full` (its first to last step; null while empty) whose plot spans
 * `plot`. A change of `resetKey` (a new run or session) forgets the zoom.
 */
export function useStepZoom(full: StepWindow | null, plot: PlotSpan, resetKey?: unknown): StepZoom {
  const [view, setView] = useState<StepWindow | null>(null);
  const [drag, setDrag] = useState<{ from: number; to: number } | null>(null);
  const press = useRef<{ x: number } | null>(null);
  const dragged = useRef(false);

  // A new key forgets the zoom in the same render (React's "adjust state when a prop changes").
  const [viewKey, setViewKey] = useState(resetKey);
  if (viewKey !== resetKey) {
    setViewKey(resetKey);
    setView(null);
  }

  // One object per window, so charts can memoise on it.
  const shown = useMemo(() => zoomedWindow(view, full), [view, full]);
  const zoomed = view !== null && shown !== full;
  // The newest geometry, for the handlers and the wheel listener (attached once per SVG element):
  // set after each commit, before any event can read it.
  const latest = useRef({ full, shown, plot });
  useLayoutEffect(() => {
    latest.current = { full, shown, plot };
  });

  const stepAt = (px: number): number | null => {
    const { shown: w, plot: p } = latest.current;
    return w ? w.lo + ((px - p.left) / Math.max(1, p.width)) * (w.hi - w.lo) : null;
  };
  const pointerX = (event: { clientX: number; currentTarget: Element }) =>
    event.clientX - event.currentTarget.getBoundingClientRect().left;

  const svgRef = useCallback<RefCallback<SVGSVGElement>>((svg) => {
    if (!svg) return;
    const onWheel = (event: WheelEvent) => {
      const { full: f, shown: w, plot: p } = latest.current;
      if (!f || !w) return;
      const sideways = Math.abs(event.deltaX) > Math.abs(event.deltaY) || event.shiftKey;
      if (event.ctrlKey || event.metaKey) {
        event.preventDefault();
        const px = event.clientX - svg.getBoundingClientRect().left;
        const at = w.lo + ((px - p.left) / Math.max(1, p.width)) * (w.hi - w.lo);
        setView(zoomAround(w, f, at, event.deltaY > 0 ? 1 / WHEEL_ZOOM : WHEEL_ZOOM));
      } else if (sideways && (w.lo > f.lo || w.hi < f.hi)) {
        event.preventDefault();
        const delta = event.shiftKey && !event.deltaX ? event.deltaY : event.deltaX;
        setView(panBy(w, f, (delta / Math.max(1, p.width)) * (w.hi - w.lo)));
      }
    };
    svg.addEventListener("wheel", onWheel, { passive: false });
    return () => svg.removeEventListener("wheel", onWheel);
  }, []);

  const reset = useCallback(() => setView(null), []);

  return {
    shown,
    zoomed,
    reset,
    drag,
    svgRef,
    handlers: {
      onPointerDown: (event) => {
        if (event.button !== 0) return;
        event.currentTarget.setPointerCapture?.(event.pointerId);
        press.current = { x: pointerX(event) };
      },
      onPointerMove: (event) => {
        const pressed = press.current;
        if (!pressed) return;
        const px = pointerX(event);
        if (drag || Math.abs(px - pressed.x) >= DRAG_PX) setDrag({ from: pressed.x, to: px });
      },
      onPointerUp: (event) => {
        const pressed = press.current;
        press.current = null;
        setDrag(null);
        const f = latest.current.full;
        if (!pressed || !f) return;
        const px = pointerX(event);
        dragged.current = Math.abs(px - pressed.x) >= DRAG_PX;
        const a = stepAt(pressed.x);
        const b = stepAt(px);
        if (dragged.current && a !== null && b !== null) setView(dragWindow(a, b, f));
      },
      onPointerCancel: () => {
        press.current = null;
        setDrag(null);
      },
      onDoubleClick: reset,
    },
    swallowClick: (event) => {
      if (dragged.current || event.detail > 1) {
        dragged.current = false;
        return true;
      }
      return false;
    },
  };
}
