import { describe, expect, it } from "vitest";

import { countForceRelations, forceRelation } from "./forces";

describe("force relations", () => {
  it("splits the cosine at ±0.2", () => {
    expect(forceRelation(0.9)).toBe("agree");
    expect(forceRelation(0.2)).toBe("orthogonal");
    expect(forceRelation(-0.19)).toBe("orthogonal");
    expect(forceRelation(-0.5)).toBe("fight");
    expect(forceRelation(NaN)).toBeNull();
  });
  it("counts the features of each kind", () => {
    // rows: same direction, opposite, orthogonal, non-finite
    const gradient = [1, 0, 1, 0, 1, 0, NaN, 1];
    const som = [2, 0, -1, 0, 0, 3, 1, 1];
    expect(countForceRelations(gradient, som, 4, 2)).toEqual({ agree: 1, fight: 1, orthogonal: 1, undefined: 1 });
  });
});
