import { describe, expect, it } from "vitest";

import { lossApart, sameBatchAs } from "./rank-checks";
import type { RankRow } from "./rank-types";

function row(rank: number, loss: number | null, batchMean: number | null): RankRow {
  return { rank, step: 5, paused: false, loss, grad_norm: 0.2, batch_mean: batchMean, batch_std: 0.3, batch_size: 64 };
}

describe("sameBatchAs", () => {
  it("names the lower rank whose batch fingerprint a rank shares", () => {
    expect(sameBatchAs([row(0, 2, 0.13), row(1, 2, 0.12), row(2, 2, 0.13)])).toEqual([null, null, 0]);
  });
  it("says nothing for ranks that gave no batch", () => {
    expect(sameBatchAs([row(0, 2, null), row(1, 2, null)])).toEqual([null, null]);
  });
});

describe("lossApart", () => {
  it("flags a rank far from the median loss, not one that reported none", () => {
    expect(lossApart([row(0, 2.3, 0.1), row(1, 2.2, 0.1), row(2, 9.5, 0.1), row(3, null, 0.1)])).toEqual([false, false, true, false]);
  });
  it("flags nothing for ranks that agree, or for a single rank", () => {
    expect(lossApart([row(0, 2.3, 0.1), row(1, 2.1, 0.1)])).toEqual([false, false]);
    expect(lossApart([row(0, 99, 0.1)])).toEqual([false]);
  });
});
