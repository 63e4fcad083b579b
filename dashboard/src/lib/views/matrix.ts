// Small matrix helpers of the views: off-diagonal statistics of a [D, D] similarity matrix,
// reordering its rows and columns, and the cosine between two rows of [D, P] tensors.

export interface OffDiagonalStats {
  /** Mean, population standard deviation and maximum of the finite off-diagonal entries. */
  mean: number;
  std: number;
  max: number;
  /** Finite off-diagonal entries counted (n·(n−1) when all are finite). */
  count: number;
  nonfinite: number;
}

/** Statistics of the entries off the diagonal of the n×n row-major `data` (as the trainer's
 * `mean_offdiag`, `std_offdiag`, `max_offdiag`). */
export function offDiagonalStats(data: ArrayLike<number>, n: number): OffDiagonalStats {
  let sum = 0;
  let max = -Infinity;
  let count = 0;
  let nonfinite = 0;
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      if (r === c) continue;
      const v = data[r * n + c];
      if (!Number.isFinite(v)) {
        nonfinite++;
        continue;
      }
      sum += v;
      count++;
      if (v > max) max = v;
    }
  }
  if (count === 0) return { mean: NaN, std: NaN, max: NaN, count, nonfinite };
  const mean = sum / count;
  let squares = 0;
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const v = data[r * n + c];
      if (r !== c && Number.isFinite(v)) squares += (v - mean) * (v - mean);
    }
  }
  return { mean, std: Math.sqrt(squares / count), max, count, nonfinite };
}

/** Indices sorted by `values`, largest first (stable; NaN last). */
export function orderByDescending(values: ArrayLike<number>): Int32Array {
  const order = Array.from({ length: values.length }, (_, i) => i);
  order.sort((a, b) => {
    const va = values[a];
    const vb = values[b];
    const na = Number.isNaN(va);
    const nb = Number.isNaN(vb);
    if (na || nb) return na === nb ? a - b : na ? 1 : -1;
    return va === vb ? a - b : vb > va ? 1 : -1;
  });
  return Int32Array.from(order);
}

/** The inverse permutation: `inverse[order[i]] = i` (where each original index now sits). */
export function inverseOrder(order: ArrayLike<number>): Int32Array {
  const inverse = new Int32Array(order.length);
  for (let i = 0; i < order.length; i++) inverse[order[i]] = i;
  return inverse;
}

/** The n×n matrix with rows and columns both put in `order`: out[i][j] = data[order[i]][order[j]]. */
export function permuteSquare(data: ArrayLike<number>, n: number, order: ArrayLike<number>): Float32Array {
  const out = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    const src = order[i] * n;
    const dst = i * n;
    for (let j = 0; j < n; j++) out[dst + j] = data[src + order[j]];
  }
  return out;
}

/** Cosine between row `row` of two [rows, width] matrices; 0 when either row is all zeros, NaN
 * when either holds a non-finite value. */
export function rowCosine(a: ArrayLike<number>, b: ArrayLike<number>, row: number, width: number): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = row * width, end = i + width; i < end; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  if (!Number.isFinite(dot + na + nb)) return NaN;
  const norms = Math.sqrt(na) * Math.sqrt(nb);
  return norms > 0 ? dot / norms : 0;
}

/** Euclidean norm of row `row` of a [rows, width] matrix. */
export function rowNorm(a: ArrayLike<number>, row: number, width: number): number {
  let sum = 0;
  for (let i = row * width, end = i + width; i < end; i++) sum += a[i] * a[i];
  return Math.sqrt(sum);
}
