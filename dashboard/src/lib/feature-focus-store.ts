// The feature in focus: selected anywhere (a table row, a thumbnail, a heatmap column, a bar),
// highlighted in every view and detailed in the feature focus panel.
import { atom } from "nanostores";

/** The focused feature's index (0..D−1), or null. */
export const $focusedFeature = atom<number | null>(null);

/** Whether the focus panel shows the pictures (true) or only a one-line summary. */
export const $focusExpanded = atom(true);

export function setFocusExpanded(expanded: boolean): void {
  $focusExpanded.set(expanded);
}

/** Focus `feature`; null clears. */
export function focusFeature(feature: number | null): void {
  $focusedFeature.set(feature);
}

/** Focus `feature`, or clear the focus when it already has it (a second click). */
export function toggleFeature(feature: number): void {
  $focusedFeature.set($focusedFeature.get() === feature ? null : feature);
}

/** Move the focus by `delta` within 0..count−1 (wrapping); from nothing, start at 0. */
export function stepFocus(delta: number, count: number): void {
  if (count <= 0) return;
  const current = $focusedFeature.get();
  $focusedFeature.set(current === null ? 0 : (((current + delta) % count) + count) % count);
}
