// What the rank comparison points out: ranks that trained on the same batch (a DDP job without a
// DistributedSampler gives every rank the same data) and ranks whose loss stands apart.
import type { RankRow } from "./rank-types";

/** How far a rank's loss may sit from the median of all ranks before it is flagged (relative). */
export const LOSS_APART = 0.5;

/** For each rank, the lower rank whose batch fingerprint it shares (null: none, or no batch). */
export function sameBatchAs(rows: readonly RankRow[]): (number | null)[] {
  return rows.map((row, index) => {
    if (row.batch_mean === null || row.batch_std === null) return null;
    const twin = rows
      .slice(0, index)
      .find((other) => other.batch_mean === row.batch_mean && other.batch_std === row.batch_std && other.batch_size === row.batch_size);
    return twin ? twin.rank : null;
  });
}

/** For each rank, whether its loss is more than LOSS_APART from the median loss (a loss not
 * reported, or not finite, comes as null and is not judged). */
export function lossApart(rows: readonly RankRow[]): boolean[] {
  const finite = rows.map((row) => row.loss).filter((loss): loss is number => loss !== null && Number.isFinite(loss));
  if (rows.length < 2) return rows.map(() => false);
  const sorted = [...finite].sort((a, b) => a - b);
  const median = sorted.length ? (sorted[(sorted.length - 1) >> 1] + sorted[sorted.length >> 1]) / 2 : NaN;
  return rows.map((row) => {
    if (row.loss === null || !Number.isFinite(row.loss)) return false;
    return Math.abs(row.loss - median) > LOSS_APART * Math.max(Math.abs(median), 1e-12);
  });
}
