// Mirrors the per-rank answers of a distributed attached loop (acc/distributed.py,
// docs/distributed.md). Keep the two in step.

/** One rank's newest report: an entry of `ranks` in `GET /debug/state` (null: not reported yet). */
export interface RankRow {
  rank: number;
  step: number;
  /** Held at a boundary every rank holds at. */
  paused: boolean;
  loss: number | null;
  /** The rank's gradient norm before DDP's all-reduce. */
  grad_norm: number | null;
  /** Fingerprint of the batch the rank trained on (equal on two ranks only for the same data). */
  batch_mean: number | null;
  batch_std: number | null;
  batch_size: number | null;
}

/** `GET /model/ranks`: for each field, one series per rank over `steps`. */
export interface RankHistory {
  world_size: number;
  steps: number[];
  loss: (number | null)[][];
  grad_norm: (number | null)[][];
  batch_mean: (number | null)[][];
  batch_std: (number | null)[][];
  more: boolean;
}

/** `GET /model/ranks/batch?rank=r`: one rank's batch of the newest held step. */
export interface RankBatch {
  step: number;
  rank: number;
  shape: number[];
  mean: number;
  std: number;
  /** The first samples as a PNG grid (base64), for image batches; null otherwise. */
  image: string | null;
}
