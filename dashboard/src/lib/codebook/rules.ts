// How the codebook page states its rules: each health number with its formula, window and
// threshold (docs/codebook.md), which rows are flagged, and the trainer's warnings by level.

import type { CodebookHealth, LevelHealth } from "../codebook-types";

/** Utilisation warnings start after this many steps (acc/vq/health.py WARMUP_STEPS, codebook.md);
 * the trainer's `warmup_steps` wins when it sends one. */
export const WARMUP_STEPS = 100;

type RuleInputs = Pick<CodebookHealth, "window" | "batches_in_window" | "dead_fraction" | "low_utilisation" | "warmup_steps">;

export function warmupSteps(health: Pick<CodebookHealth, "warmup_steps">): number {
  return health.warmup_steps ?? WARMUP_STEPS;
}

export interface RuleRow {
  metric: string;
  formula: string;
  window: string;
  threshold: string;
}

/** Percent without trailing zeros: 0.3 -> "30%", 0.875 -> "87.5%". */
export function percent(fraction: number, digits = 1): string {
  if (!Number.isFinite(fraction)) return "—";
  const value = Number((fraction * 100).toFixed(digits));
  return `${value}%`;
}

/** The window as a user reads it: "last 100 batches" (and how many it holds while filling). */
export function windowText(health: Pick<CodebookHealth, "window" | "batches_in_window">): string {
  const filling = health.batches_in_window < health.window ? ` (${health.batches_in_window} so far)` : "";
  return `last ${health.window} batches${filling}`;
}

/** The rule of every number in the health table. */
export function ruleRows(health: RuleInputs): RuleRow[] {
  const window = windowText(health);
  return [
    {
      metric: "Utilisation",
      formula: "#{k : n_k > 0} / K",
      window,
      threshold: `warning below ${percent(health.low_utilisation)} after the first ${warmupSteps(health)} steps`,
    },
    {
      metric: "Perplexity",
      formula: "exp(−Σ_k p_k log p_k), p_k = n_k / N, natural log, 0·log 0 = 0",
      window: `${window}; batch: the last batch only`,
      threshold: "from 1 (one code) to K (all codes equally used)",
    },
    {
      metric: "Normalised perplexity",
      formula: "perplexity / K",
      window,
      threshold: "from 1/K to 1",
    },
    {
      metric: "Dead codes",
      formula: `#{k : n_k < ${health.dead_fraction} · N / K}`,
      window,
      threshold: `used less than ${percent(health.dead_fraction)} of a uniform share; warning when the count rose over the window`,
    },
  ];
}

/** Whether a level's utilisation is under the threshold once the warm-up is over. */
export function isLowUtilisation(level: LevelHealth, health: Pick<CodebookHealth, "step" | "low_utilisation" | "warmup_steps">): boolean {
  return health.step >= warmupSteps(health) && level.utilisation < health.low_utilisation;
}

export interface ParsedWarning {
  /** 1-based level, or null when the text names none. */
  level: number | null;
  kind: "utilisation" | "dead" | "other";
  text: string;
}

/** Sorts a trainer warning ("level 2: utilisation 12% is below 30% …") by level and kind. */
export function parseWarning(text: string): ParsedWarning {
  const match = /^level (\d+):\s*(.*)$/.exec(text);
  const rest = match ? match[2] : text;
  const kind = /^utilisation/.test(rest) ? "utilisation" : /^dead codes/.test(rest) ? "dead" : "other";
  return { level: match ? Number(match[1]) : null, kind, text };
}
