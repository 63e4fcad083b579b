// The non-finite warning of a step, as data: which keys hold NaN or ±Inf values and how many.
import type { StepTensorKey } from "../generated/tensor-keys";

export interface NonFiniteSummary {
  /** Keys with at least one non-finite value, most first (ties in the header's order). */
  entries: [StepTensorKey, number][];
  total: number;
}

/** From a frame header's `nonfinite` map ({key: count}); zero and bad counts are left out. */
export function summarizeNonFinite(nonfinite: Partial<Record<StepTensorKey, number>> | undefined): NonFiniteSummary {
  const entries = (Object.entries(nonfinite ?? {}) as [StepTensorKey, number][])
    .filter(([, n]) => Number.isFinite(n) && n > 0)
    .map((entry, i) => [entry, i] as const)
    .sort(([a, i], [b, j]) => b[1] - a[1] || i - j)
    .map(([entry]) => entry);
  return { entries, total: entries.reduce((sum, [, n]) => sum + n, 0) };
}
