import { describe, expect, it } from "vitest";

import { KEY_META } from "../generated/tensor-keys";
import { TRACE_SECTIONS } from "./trace";

describe("TRACE_SECTIONS", () => {
  it("has nine sections numbered in order, with unique ids", () => {
    expect(TRACE_SECTIONS.map((s) => s.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(new Set(TRACE_SECTIONS.map((s) => s.id)).size).toBe(9);
  });
  it("shows only keys of the vocabulary that have a renderer", () => {
    const drawable = new Set(["heatmap", "bar_chart", "weight_grid", "index_table"]);
    for (const section of TRACE_SECTIONS) {
      for (const key of section.keys) {
        expect(KEY_META[key], key).toBeDefined();
        expect(drawable.has(KEY_META[key].render), key).toBe(true);
      }
    }
  });
  it("opens with strength and ends with the grad mask", () => {
    expect(TRACE_SECTIONS[0].keys[0]).toBe("strength");
    expect(TRACE_SECTIONS[8].keys[0]).toBe("grad_mask");
  });
});
