import { describe, expect, it } from "vitest";

import { KEY_META } from "../generated/tensor-keys";
import { axisName, formatExact, formatFixed3, isFeatureAxis } from "./axes";

describe("axes", () => {
  it("names axes from the shape symbols", () => {
    expect(axisName("B")).toEqual(["image", "images"]);
    expect(axisName("D")[0]).toBe("feature");
    expect(axisName("Z")[0]).toBe("index");
    expect(isFeatureAxis(KEY_META.strength, 1)).toBe(true);
    expect(isFeatureAxis(KEY_META.strength, 0)).toBe(false);
  });
});

describe("formats", () => {
  it("shows 7 significant digits on hover", () => {
    expect(formatExact(0.14118440449237823)).toBe("0.1411844");
    expect(formatExact(-2.5)).toBe("−2.5");
    expect(formatExact(3)).toBe("3");
    expect(formatExact(1.234567e-7)).toBe("1.234567e−7");
    expect(formatExact(-1.5e-9)).toBe("−1.500000e−9");
    expect(formatExact(NaN)).toBe("NaN");
    expect(formatExact(-Infinity)).toBe("−Inf");
  });
  it("rounds statistics to 3 decimals without a negative zero", () => {
    expect(formatFixed3(0.97834)).toBe("0.978");
    expect(formatFixed3(-0.0032)).toBe("−0.003");
    expect(formatFixed3(-0.0002)).toBe("0.000");
  });
});
