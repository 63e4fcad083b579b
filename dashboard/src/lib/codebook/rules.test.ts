import { describe, expect, it } from "vitest";

import type { LevelHealth } from "../codebook-types";
import { WARMUP_STEPS, isLowUtilisation, parseWarning, percent, ruleRows, windowText } from "./rules";

const health = { step: 150, window: 100, batches_in_window: 100, dead_fraction: 0.01, low_utilisation: 0.3 };
const level = (utilisation: number): LevelHealth => ({
  level: 1,
  utilisation,
  perplexity: 3,
  normalised_perplexity: 0.1,
  batch_perplexity: 2,
  dead_codes: 0,
  dead_rising: false,
  counts: [],
  codebook_drift: null,
  codebook_drift_mean: null,
  quantisation_error: null,
  quantisation_error_mean: null,
});

describe("percent and windowText", () => {
  it("formats", () => {
    expect(percent(0.3)).toBe("30%");
    expect(percent(0.875)).toBe("87.5%");
    expect(percent(0.0123, 2)).toBe("1.23%");
    expect(percent(Number.NaN)).toBe("—");
    expect(windowText(health)).toBe("last 100 batches");
    expect(windowText({ window: 100, batches_in_window: 12 })).toBe("last 100 batches (12 so far)");
  });
});

describe("ruleRows", () => {
  it("states each number's formula, window and threshold", () => {
    const rows = ruleRows(health);
    expect(rows.map((r) => r.metric)).toEqual(["Utilisation", "Perplexity", "Normalised perplexity", "Dead codes"]);
    expect(rows[0].threshold).toBe(`warning below 30% after the first ${WARMUP_STEPS} steps`);
    expect(rows[3].formula).toBe("#{k : n_k < 0.01 · N / K}");
    expect(rows.every((r) => r.window.startsWith("last 100 batches"))).toBe(true);
  });
});

describe("isLowUtilisation", () => {
  it("flags a level under the threshold once the warm-up is over", () => {
    expect(isLowUtilisation(level(0.2), health)).toBe(true);
    expect(isLowUtilisation(level(0.3), health)).toBe(false);
    expect(isLowUtilisation(level(0.2), { ...health, step: WARMUP_STEPS - 1 })).toBe(false);
    // The trainer's own warm-up wins.
    expect(isLowUtilisation(level(0.2), { ...health, step: 20, warmup_steps: 10 })).toBe(true);
    expect(ruleRows({ ...health, warmup_steps: 10 })[0].threshold).toBe("warning below 30% after the first 10 steps");
  });
});

describe("parseWarning", () => {
  it("sorts the trainer's warnings by level and kind", () => {
    expect(parseWarning("level 2: utilisation 12% is below 30% (last 100 batches)")).toEqual({
      level: 2,
      kind: "utilisation",
      text: "level 2: utilisation 12% is below 30% (last 100 batches)",
    });
    expect(parseWarning("level 1: dead codes rose to 19 over the last 100 batches").kind).toBe("dead");
    expect(parseWarning("something else")).toEqual({ level: null, kind: "other", text: "something else" });
  });
});
