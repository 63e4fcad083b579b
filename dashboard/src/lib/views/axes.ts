// What the axes of a tensor are, from the shape symbols of its metadata (B batch, D features, ...),
// and the number formats of the views.
import type { KeyMeta } from "../generated/tensor-keys";

const AXIS_NAMES: Record<string, [string, string]> = {
  B: ["image", "images"],
  D: ["feature", "features"],
  k: ["neighbour", "neighbours"],
  P: ["pixel", "pixels"],
  L: ["level", "levels"],
  K: ["code", "codes"],
};

/** Singular and plural name of an axis symbol ("D" → feature, features). */
export function axisName(symbol: string | undefined): [string, string] {
  return (symbol ? AXIS_NAMES[symbol] : undefined) ?? ["index", "indices"];
}

/** Whether axis `i` of a key counts features (symbol "D"): those axes select and highlight. */
export function isFeatureAxis(meta: KeyMeta | undefined, i: number): boolean {
  return meta?.shape[i] === "D";
}

/** A value with 7 significant digits (what hover shows); NaN and infinities by name. */
export function formatExact(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "−Inf";
  if (v === 0 || Number.isInteger(v)) return String(v);
  const abs = Math.abs(v);
  const text = abs < 1e-4 || abs >= 1e7 ? v.toExponential(6) : String(Number(v.toPrecision(7)));
  return text.replaceAll("-", "−");
}

/** A statistic with 3 decimals ("0.978", "−0.003"), as the cosine summaries show them. */
export function formatFixed3(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? "NaN" : v > 0 ? "+Inf" : "−Inf";
  const text = v.toFixed(3);
  return (text === "-0.000" ? "0.000" : text).replace("-", "−");
}
