// The run form: what would start a given run again.

import type { CodebookConfig, CodebookForm, CodebookRun } from "../codebook-types";

const CONDITIONS = ["ema", "learned", "collapse"] as const;

/** The form that starts `run` again: its condition and steps, and its setup's options. */
export function formFromRun(run: Pick<CodebookRun, "condition" | "steps">, config: CodebookConfig): CodebookForm {
  return {
    condition: CONDITIONS.find((c) => c === run.condition) ?? config.kind,
    levels: config.levels,
    commitment: config.commitment,
    wasserstein_weight: config.wasserstein_weight,
    wasserstein_epsilon: config.wasserstein_epsilon,
    revive: config.revive,
    steps: run.steps,
  };
}
