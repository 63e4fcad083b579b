import { describe, expect, it } from "vitest";

import { summarizeNonFinite } from "./nonfinite";

describe("summarizeNonFinite", () => {
  it("names every key with non-finite values, most first, and the total", () => {
    expect(summarizeNonFinite({ loss: 1, strength: 12, rank_score: 0, grad_mask: 12 })).toEqual({
      entries: [
        ["strength", 12],
        ["grad_mask", 12],
        ["loss", 1],
      ],
      total: 25,
    });
  });
  it("is empty for a finite step", () => {
    expect(summarizeNonFinite({})).toEqual({ entries: [], total: 0 });
    expect(summarizeNonFinite(undefined)).toEqual({ entries: [], total: 0 });
  });
});
