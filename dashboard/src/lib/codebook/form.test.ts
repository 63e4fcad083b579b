import { describe, expect, it } from "vitest";

import type { CodebookConfig } from "../codebook-types";
import { formFromRun } from "./form";

const config: CodebookConfig = {
  levels: 2,
  num_codes: 128,
  num_codes_rule: "rule",
  auto_num_codes: true,
  code_dim: 16,
  kind: "learned",
  commitment: 0.5,
  wasserstein_weight: 0.1,
  wasserstein_epsilon: 0.02,
  revive: true,
  batch_size: 128,
  lr: 0.002,
};

describe("formFromRun", () => {
  it("takes the run's condition and steps and the setup's options", () => {
    expect(formFromRun({ condition: "collapse", steps: 300 }, config)).toEqual({
      condition: "collapse",
      levels: 2,
      commitment: 0.5,
      wasserstein_weight: 0.1,
      wasserstein_epsilon: 0.02,
      revive: true,
      steps: 300,
    });
  });

  it("falls back to the codebook kind for an unknown condition", () => {
    expect(formFromRun({ condition: "other", steps: 1 }, config).condition).toBe("learned");
  });
});
