// Pieces every view uses: the figure frame with its caption, the colour bar, the hover tooltip,
// the "not captured" note, and the hook that paints RGBA pixels onto a canvas.
import { useLayoutEffect, useRef, type ReactNode, type RefObject } from "react";

import { formatCount, formatValue } from "../../lib/format";
import { type Domain, type Lut, lutGradient, NONFINITE_CSS } from "../../lib/views/colour";

/**
 * The test id of a view's part: `<part>-<key>`, or `<part>-<place>-<key>` for a view drawn in a
 * named place (a trace section), so a key drawn in two places (som_targets, in sections 7 and 9)
 * has ids of its own in each.
 */
export function viewTestId(part: string, tensorKey: string, place?: string): string {
  return place ? `${part}-${place}-${tensorKey}` : `${part}-${tensorKey}`;
}

/** A titled figure: the key in mono, its shape, an optional control, the body, the description. */
export function Figure(props: {
  tensorKey: string;
  view: string;
  /** Where on the page the figure sits (a trace section's id), when a key can be drawn twice. */
  place?: string;
  step: number;
  shape?: readonly number[];
  title?: ReactNode;
  controls?: ReactNode;
  description?: string;
  className?: string;
  /** Fixed width in CSS pixels (canvas figures whose drawing has a set size). */
  width?: number;
  children: ReactNode;
}) {
  return (
    <figure
      className={props.className ? `vfig ${props.className}` : "vfig"}
      style={props.width ? { width: props.width } : undefined}
      data-view={props.view}
      data-key={props.tensorKey}
      data-step={props.step}
      data-place={props.place}
      data-testid={viewTestId("view", props.tensorKey, props.place)}
    >
      <figcaption className="vfig-head">
        <span className="vfig-title">
          <span className="vfig-key">{props.title ?? props.tensorKey}</span>
          {props.shape && <span className="vfig-shape">[{props.shape.join(" × ")}]</span>}
        </span>
        {props.controls && <span className="vfig-controls">{props.controls}</span>}
      </figcaption>
      {props.children}
      {props.description && <p className="vfig-desc">{props.description}</p>}
    </figure>
  );
}

/** Shown in place of a view whose key this step does not hold. */
export function Missing(props: { tensorKey: string; condition?: string; step?: number; compact?: boolean; place?: string }) {
  return (
    <div
      className={props.compact ? "view-missing compact" : "view-missing"}
      data-testid={viewTestId("missing", props.tensorKey, props.place)}
      data-view="missing"
      data-step={props.step}
    >
      <span className="mono">{props.tensorKey}</span>
      <span>not captured in this condition{props.condition ? ` (${props.condition})` : ""}</span>
    </div>
  );
}

/** A horizontal colour bar with the range it maps, and the non-finite count when there are any. */
export function ColourBar(props: {
  lut: Lut;
  domain: Domain;
  /** Show the middle (0) label: the scale is diverging. */
  centred?: boolean;
  /** The low end also stands for everything below it ("≤ 0"). */
  clampLow?: boolean;
  nonfinite: number;
  fixed?: boolean;
}) {
  const { domain } = props;
  return (
    <div className="cbar" data-testid="colour-bar" data-lo={domain.lo} data-hi={domain.hi}>
      <span className="cbar-label mono">
        {props.clampLow ? "≤" : ""}
        {formatValue(domain.lo)}
      </span>
      <span className="cbar-ramp" style={{ background: lutGradient(props.lut) }}>
        {props.centred && <span className="cbar-mid mono">0</span>}
      </span>
      <span className="cbar-label mono">{formatValue(domain.hi)}</span>
      {props.fixed && <span className="cbar-fixed">fixed</span>}
      {props.nonfinite > 0 && (
        <span className="cbar-nan" data-testid="nonfinite-count" title="NaN or ±Inf cells, drawn magenta">
          <span className="cbar-nan-swatch" style={{ background: NONFINITE_CSS }} />
          {formatCount(props.nonfinite)} NaN/Inf
        </span>
      )}
    </div>
  );
}

/** The hover tooltip of a canvas view, placed at (x, y) inside its frame (flips near the right). */
export function HoverTip(props: {
  x: number;
  y: number;
  frameWidth: number;
  testId: string;
  data?: Record<string, string | number>;
  children: ReactNode;
}) {
  const flip = props.x > props.frameWidth - 150;
  const dataAttributes: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(props.data ?? {})) dataAttributes[`data-${name}`] = value;
  return (
    <div
      className={flip ? "vtip flip" : "vtip"}
      style={{ left: props.x, top: props.y }}
      data-testid={props.testId}
      role="status"
      {...dataAttributes}
    >
      {props.children}
    </div>
  );
}

/**
 * Paints a `width`×`height` canvas from RGBA pixels whenever `deps` change. Runs as a layout
 * effect, so the pixels are on the canvas in the same commit as the DOM around it (nothing paints
 * a stale picture under a new caption). Returns the ref to put on the canvas.
 */
export function usePaintedCanvas(
  width: number,
  height: number,
  paint: (pixels: Uint8ClampedArray) => void,
  deps: readonly unknown[],
): RefObject<HTMLCanvasElement | null> {
  const ref = useRef<HTMLCanvasElement>(null);
  // Kept between paints of the same size: painters overwrite every pixel they own, and what they
  // leave (gaps between tiles) stays transparent, so no clearing and no 2 MB allocation per step.
  const imageRef = useRef<ImageData | null>(null);
  useLayoutEffect(() => {
    const canvas = ref.current;
    if (!canvas || width <= 0 || height <= 0) return;
    if (canvas.width !== width) canvas.width = width;
    if (canvas.height !== height) canvas.height = height;
    const context = canvas.getContext("2d");
    if (!context) return;
    let image = imageRef.current;
    if (!image || image.width !== width || image.height !== height) {
      image = context.createImageData(width, height);
      imageRef.current = image;
    }
    paint(image.data);
    context.putImageData(image, 0, 0);
    // The caller's `deps` are forwarded as useEffect's are: `paint` is a new closure every render,
    // and what it paints from is exactly what the caller lists (a changed list repaints).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [width, height, ...deps]);
  return ref;
}

/** A switch between a few options ("0..1" | "fit") as a small segmented control. */
export function Toggle<T extends string>(props: {
  value: T;
  options: readonly { value: T; label: string; title?: string }[];
  onChange: (value: T) => void;
  testId?: string;
  disabled?: boolean;
}) {
  return (
    <span className="vtoggle" role="group" data-testid={props.testId}>
      {props.options.map((option) => (
        <button
          key={option.value}
          type="button"
          className={option.value === props.value ? "vtoggle-btn active" : "vtoggle-btn"}
          aria-pressed={option.value === props.value}
          data-value={option.value}
          title={option.title}
          disabled={props.disabled}
          onClick={() => props.onChange(option.value)}
        >
          {option.label}
        </button>
      ))}
    </span>
  );
}
