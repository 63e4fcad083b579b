// Every colour the dashboard computes, in one module: the colour maps (viridis, diverging, grey)
// as tables for the painters that turn a tensor into RGBA pixels, and as single colours for SVG
// marks (the runs page's scatter, force images and similarity cells); the categorical palettes of
// lines, levels and codes; the non-finite magenta. Theme colours stay CSS variables.
// A key's `scale` (generated metadata) picks both the colour map and the value range:
//   magnitude  viridis, 0..max (a magnitude starts at 0)
//   signed     diverging, centred on 0, symmetric ±max|v|
//   unit       viridis, fixed 0..1 so two steps compare by eye
//   cosine     diverging over −1..1 (blue anti-aligned, white orthogonal, red aligned); or, by
//              choice, viridis over 0..1 (values below 0 draw as the 0 colour) or the data's range
//   index      viridis over the data's range
// Pictures of weight-shaped tensors ([D, 784] as 28×28 tiles) that are not signed draw in grey, as
// the digits they are made of. Non-finite values (NaN, ±Inf) draw in NONFINITE_RGB and are counted.
import type { ValueScale } from "../generated/tensor-keys";

export type ColourMap = "viridis" | "diverging" | "gray";

/** Where a scale is drawn: a heatmap of numbers, or a picture (28×28 tiles). */
export type ScaleContext = "heatmap" | "image";

/** Red, green, blue in 0..255. */
export type Rgb = [number, number, number];

/** Magenta: in none of the maps, so a non-finite cell is never mistaken for a value. */
export const NONFINITE_RGB: readonly [number, number, number] = [255, 0, 255];
export const NONFINITE_CSS = "rgb(255 0 255)";

/** 256 entries × RGB. */
export type Lut = Uint8Array;

const LUT_SIZE = 256;

// Matplotlib's viridis at 11 evenly spaced stops (its 256-entry table interpolates within 1/255).
const VIRIDIS_STOPS = [
  "#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c",
  "#22a884", "#44bf70", "#7ad151", "#bddf26", "#fde725",
];
// ColorBrewer RdBu, negative blue → white → positive red.
const DIVERGING_LIGHT_STOPS = [
  "#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7",
  "#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f",
];
// The dark-scheme variant keeps blue = negative, red = positive, but 0 is the page's near-black and
// size is brightness, so small weights do not glare on a dark page.
const DIVERGING_DARK_STOPS = ["#b9dcff", "#5aa0e6", "#2a6cb0", "#1b3f66", "#16181d", "#6b2320", "#b8433a", "#ef7f6c", "#ffc4b8"];
const GRAY_STOPS = ["#000000", "#ffffff"];

function hexRgb(hex: string): Rgb {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** The colour at `t` in 0..1 (clamped; NaN as 0) between evenly spaced stops, linearly. */
function interpolate(stops: readonly Rgb[], t: number): Rgb {
  const clamped = t > 0 ? Math.min(1, t) : 0;
  const segments = stops.length - 1;
  const at = clamped * segments;
  const s = Math.min(segments - 1, Math.floor(at));
  const f = at - s;
  const a = stops[s];
  const b = stops[s + 1];
  return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f)];
}

/** A 256-entry table interpolated linearly between evenly spaced stops. */
export function buildLut(stops: readonly string[]): Lut {
  const rgb = stops.map(hexRgb);
  const lut = new Uint8Array(LUT_SIZE * 3);
  for (let i = 0; i < LUT_SIZE; i++) lut.set(interpolate(rgb, i / (LUT_SIZE - 1)), i * 3);
  return lut;
}

function stopsOf(map: ColourMap, dark: boolean): readonly string[] {
  return map === "viridis" ? VIRIDIS_STOPS : map === "gray" ? GRAY_STOPS : dark ? DIVERGING_DARK_STOPS : DIVERGING_LIGHT_STOPS;
}

const STOP_RGB = new Map<readonly string[], readonly Rgb[]>();

/** The colour of `t` in 0..1 (clamped; NaN as 0) on `map`, exactly between its stops (no table). */
export function mapRgb(map: ColourMap, t: number, dark = false): Rgb {
  const stops = stopsOf(map, dark);
  let rgb = STOP_RGB.get(stops);
  if (!rgb) {
    rgb = stops.map(hexRgb);
    STOP_RGB.set(stops, rgb);
  }
  return interpolate(rgb, t);
}

/** Viridis colour of `t` in 0..1 (clamped), e.g. a win rate. */
export function viridis(t: number): Rgb {
  return mapRgb("viridis", t);
}

/** Diverging colour of `value` on a scale symmetric around 0 reaching ±`maxAbs`; magenta when not finite. */
export function diverging(value: number, maxAbs: number, dark = false): Rgb {
  if (!Number.isFinite(value)) return [...NONFINITE_RGB];
  return mapRgb("diverging", maxAbs > 0 ? 0.5 + value / (2 * maxAbs) : 0.5, dark);
}

/** CSS of an RGB colour. */
export function rgb([r, g, b]: readonly [number, number, number]): string {
  return `rgb(${r} ${g} ${b})`;
}

/** Dark or light text, whichever reads better on `background`. */
export function textOn([r, g, b]: readonly [number, number, number]): string {
  const luminance = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
  return luminance > 0.55 ? "#16191f" : "#f6f7f9";
}

/**
 * Distinct colours for lines and levels (Tableau 10), readable on light and dark backgrounds:
 * watched features' lines take them in watch-list order, codebook levels 1, 2, 3 … in order.
 */
export const CATEGORICAL: readonly string[] = [
  "#4e79a7",
  "#f28e2b",
  "#59a14f",
  "#e15759",
  "#b07aa1",
  "#76b7b2",
  "#edc948",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
];

/** The `i`-th categorical colour (0-based, cycled). */
export function categorical(i: number): string {
  const n = CATEGORICAL.length;
  return CATEGORICAL[((Math.trunc(i) % n) + n) % n];
}

/** Matplotlib's tab10 cycle: codebook codes, as the reference plot of code trajectories drew them. */
export const TAB10: readonly string[] = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];

const LUTS = new Map<string, Lut>();

/** The table of `map` (cached); `dark` picks the dark-scheme diverging map. */
export function lutFor(map: ColourMap, dark = false): Lut {
  const id = map === "diverging" && dark ? "diverging-dark" : map;
  let lut = LUTS.get(id);
  if (!lut) {
    lut = buildLut(stopsOf(map, dark));
    LUTS.set(id, lut);
  }
  return lut;
}

/** The colour map of a key's scale where it is drawn. */
export function mapFor(scale: ValueScale, context: ScaleContext = "heatmap"): ColourMap {
  if (scale === "signed") return "diverging";
  return context === "image" ? "gray" : "viridis";
}

/** CSS colour of table entry `i` (0..255). */
export function lutCss(lut: Lut, i: number): string {
  const j = Math.max(0, Math.min(LUT_SIZE - 1, Math.round(i))) * 3;
  return `rgb(${lut[j]} ${lut[j + 1]} ${lut[j + 2]})`;
}

/** A CSS linear-gradient through the table, left (lo) to right (hi). */
export function lutGradient(lut: Lut, steps = 16): string {
  const parts: string[] = [];
  for (let s = 0; s <= steps; s++) {
    parts.push(`${lutCss(lut, (s / steps) * (LUT_SIZE - 1))} ${((s / steps) * 100).toFixed(1)}%`);
  }
  return `linear-gradient(to right, ${parts.join(", ")})`;
}

/** Smallest and largest finite value, and how many values are not finite. */
export interface FiniteRange {
  min: number;
  max: number;
  /** Largest |v| over finite values. */
  absMax: number;
  nonfinite: number;
  /** Finite values seen (min/max are NaN when 0). */
  count: number;
}

export function finiteRange(data: ArrayLike<number>, start = 0, end = data.length): FiniteRange {
  let min = Infinity;
  let max = -Infinity;
  let nonfinite = 0;
  for (let i = start; i < end; i++) {
    const v = data[i];
    if (v - v !== 0) {
      // NaN and ±Inf (v - v is NaN for both); the fastest finiteness test in V8.
      nonfinite++;
      continue;
    }
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const count = end - start - nonfinite;
  if (count === 0) return { min: NaN, max: NaN, absMax: NaN, nonfinite, count };
  return { min, max, absMax: Math.max(Math.abs(min), Math.abs(max)), nonfinite, count };
}

/** The value range a scale maps onto the colour table: `lo` is entry 0, `hi` entry 255. */
export interface Domain {
  lo: number;
  hi: number;
}

/**
 * The range of `scale` for data spanning `range`. `fit`: unit and cosine data use the data's range
 * instead of the fixed 0..1 (a zoom for tiny values, e.g. a grad_mask of 1e-3).
 */
export function domainFor(scale: ValueScale, range: FiniteRange, fit = false): Domain {
  if (range.count === 0) return scale === "signed" ? { lo: -1, hi: 1 } : { lo: 0, hi: 1 };
  let lo: number;
  let hi: number;
  switch (scale) {
    case "signed":
      hi = range.absMax;
      lo = -hi;
      break;
    case "unit":
    case "cosine":
      if (!fit) return { lo: 0, hi: 1 };
      lo = scale === "cosine" ? Math.max(0, range.min) : range.min;
      hi = range.max;
      break;
    case "magnitude":
      lo = Math.min(0, range.min);
      hi = range.max;
      break;
    default:
      lo = range.min;
      hi = range.max;
  }
  if (!(hi > lo)) {
    // A flat tensor: widen so it still has a colour (the middle for signed, else the low end).
    if (scale === "signed") return { lo: -1, hi: 1 };
    hi = lo + (Math.abs(lo) || 1);
  }
  return { lo, hi };
}

/**
 * How a heatmap spreads its colours: `signed` the diverging map over −1..1 (cosines: the default,
 * so anti-aligned features do not look orthogonal), `fixed` the key's fixed range (0..1 for unit
 * and cosine keys), `fit` the data's range.
 */
export type RangeMode = "signed" | "fixed" | "fit";

/** The colour map and value range of a heatmap of a `scale` key drawn in `mode` over data spanning `range`. */
export function heatmapColours(scale: ValueScale, range: FiniteRange, mode: RangeMode): { map: ColourMap; domain: Domain } {
  if (mode === "signed" && scale === "cosine") return { map: "diverging", domain: { lo: -1, hi: 1 } };
  return { map: mapFor(scale), domain: domainFor(scale, range, mode === "fit") };
}

/** The colour of cosine `v` as the heatmaps draw it in `mode` (`signed`: blue −1, white 0, red 1); magenta when not finite. */
export function cosineRgb(v: number, mode: RangeMode = "signed", dark = false): [number, number, number] {
  if (v - v !== 0) return [...NONFINITE_RGB];
  const { map, domain } = heatmapColours("cosine", { min: -1, max: 1, absMax: 1, nonfinite: 0, count: 1 }, mode === "fit" ? "fixed" : mode);
  const lut = lutFor(map, dark);
  const i = colourIndex(v, domain) * 3;
  return [lut[i], lut[i + 1], lut[i + 2]];
}

/** The table entry of `v` in `domain` (clamped), or -1 for a non-finite value. */
export function colourIndex(v: number, domain: Domain): number {
  if (v - v !== 0) return -1;
  const t = (v - domain.lo) / (domain.hi - domain.lo);
  return t <= 0 ? 0 : t >= 1 ? LUT_SIZE - 1 : Math.round(t * (LUT_SIZE - 1));
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const PACKED = new WeakMap<Lut, Uint32Array>();

/**
 * The table as one 32-bit RGBA word per entry (the byte order of the host), plus the non-finite
 * colour at index 256, so a painter writes each pixel with one store.
 */
export function packedLut(lut: Lut): Uint32Array {
  let packed = PACKED.get(lut);
  if (!packed) {
    packed = new Uint32Array(LUT_SIZE + 1);
    const pack = (r: number, g: number, b: number) =>
      LITTLE_ENDIAN ? ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0 : ((r << 24) | (g << 16) | (b << 8) | 255) >>> 0;
    for (let i = 0; i < LUT_SIZE; i++) packed[i] = pack(lut[i * 3], lut[i * 3 + 1], lut[i * 3 + 2]);
    packed[LUT_SIZE] = pack(NONFINITE_RGB[0], NONFINITE_RGB[1], NONFINITE_RGB[2]);
    PACKED.set(lut, packed);
  }
  return packed;
}

/** A 32-bit view of RGBA pixels (their buffer offset is a multiple of 4, as ImageData's is). */
export function pixelWords(pixels: Uint8ClampedArray): Uint32Array {
  return new Uint32Array(pixels.buffer, pixels.byteOffset, pixels.length >> 2);
}

/** Paint the first `count` values into RGBA pixels, one pixel per value, in order. Returns how
 * many values were not finite. */
export function paintValues(
  data: ArrayLike<number>,
  pixels: Uint8ClampedArray,
  lut: Lut,
  domain: Domain,
  count = data.length,
): number {
  const words = pixelWords(pixels);
  const table = packedLut(lut);
  const scale = (LUT_SIZE - 1) / (domain.hi - domain.lo);
  const lo = domain.lo;
  const top = LUT_SIZE - 1;
  let nonfinite = 0;
  for (let i = 0; i < count; i++) {
    const v = data[i];
    if (v - v !== 0) {
      nonfinite++;
      words[i] = table[LUT_SIZE];
      continue;
    }
    const t = (v - lo) * scale;
    words[i] = table[t <= 0 ? 0 : t >= top ? top : (t + 0.5) | 0];
  }
  return nonfinite;
}
