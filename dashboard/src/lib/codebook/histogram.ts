// Code-usage histograms: the dead-code rule of docs/codebook.md, shares (so a window of 100
// batches and a validation pass of 512 images compare), rank order, and binning many codes into
// the bars a chart has room for.

import { categorical } from "../views/colour";

/** Codes used less than `deadFraction` of a uniform share N / K (acc/vq/health.py). None when N = 0. */
export function deadMask(counts: readonly number[], deadFraction: number): boolean[] {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total <= 0) return counts.map(() => false);
  const threshold = (deadFraction * total) / counts.length;
  return counts.map((n) => n < threshold);
}

/** p_k = n_k / N (all zero when N = 0). */
export function shares(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((n) => (total > 0 ? n / total : 0));
}

/** exp(−Σ p log p), natural log, 0·log 0 = 0 (0 for an empty count vector). */
export function perplexity(counts: readonly number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total <= 0) return 0;
  let entropy = 0;
  for (const n of counts) if (n > 0) entropy -= (n / total) * Math.log(n / total);
  return Math.exp(entropy);
}

/** #{k : n_k > 0} / K */
export function utilisation(counts: readonly number[]): number {
  return counts.length ? counts.filter((n) => n > 0).length / counts.length : 0;
}

/** Code indices by decreasing count (ties by index). */
export function rankOrder(counts: readonly number[]): number[] {
  return counts.map((_, i) => i).sort((a, b) => counts[b] - counts[a] || a - b);
}

export interface HistogramBar {
  /** Position of the bar's first code in the display order (its rank − 1 in rank order). */
  start: number;
  /** The codes the bar stands for, in display order. */
  codes: number[];
  /** The largest value among them (so a single busy code is not averaged away). */
  value: number;
  /** How many of them are dead. */
  dead: number;
}

/**
 * One bar per code in `order` (code index order by default), or, when there are more codes than
 * `maxBars`, consecutive groups of codes with their largest value and dead count.
 */
export function histogramBars(
  values: readonly number[],
  dead: readonly boolean[],
  maxBars: number,
  order: readonly number[] = values.map((_, i) => i),
): HistogramBar[] {
  const per = Math.max(1, Math.ceil(order.length / Math.max(1, maxBars)));
  const bars: HistogramBar[] = [];
  for (let i = 0; i < order.length; i += per) {
    const codes = order.slice(i, i + per);
    bars.push({
      start: i,
      codes,
      value: Math.max(...codes.map((k) => values[k] ?? 0)),
      dead: codes.filter((k) => dead[k]).length,
    });
  }
  return bars;
}

/** A short name of a bar's codes: "code 7" or "codes 8–15" (rank order: "ranks 1–4"). */
export function barLabel(bar: HistogramBar, byRank: boolean): string {
  const per = bar.codes.length;
  if (byRank) {
    const first = bar.start + 1;
    return per === 1 ? `rank ${first} · code ${bar.codes[0]}` : `ranks ${first}–${first + per - 1}`;
  }
  return per === 1 ? `code ${bar.codes[0]}` : `codes ${bar.codes[0]}–${bar.codes[per - 1]}`;
}

/** The colour of level 1, 2, 3 … where levels are drawn side by side (blue, orange, green …). */
export function levelColour(level: number): string {
  return categorical(Math.max(1, level) - 1);
}

/** One group of bars side by side: the same codes in every series (level). */
export interface GroupedBar {
  start: number;
  codes: number[];
  /** Per series: the largest value among the codes, and how many of them are dead. */
  values: number[];
  dead: number[];
}

/**
 * Bars of several series over the same codes (the levels of a codebook), grouped code by code so
 * the levels stand side by side: one group per code in `order`, or per run of consecutive codes
 * when more than `maxGroups` groups do not fit (each series binned as `histogramBars` bins it).
 */
export function groupedBars(
  series: readonly { values: readonly number[]; dead: readonly boolean[] }[],
  maxGroups: number,
  order?: readonly number[],
): GroupedBar[] {
  if (!series.length) return [];
  const codes = order ?? series[0].values.map((_, i) => i);
  const binned = series.map((s) => histogramBars(s.values, s.dead, maxGroups, codes));
  return binned[0].map((bar, i) => ({
    start: bar.start,
    codes: bar.codes,
    values: binned.map((b) => b[i].value),
    dead: binned.map((b) => b[i].dead),
  }));
}
