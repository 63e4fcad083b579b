// Rewind and branches, for the inspector session and the free run: the verbs that go back to a
// held restore point, the branches' loss lines the loss charts overlay, and the branch step being
// browsed (read-only). Views read these stores and call the verbs below; none of them fetches by
// itself.
import { atom, onMount } from "nanostores";

import { fetchFrame, fetchJSON, postJSON } from "./api";
import { historyQuery } from "./inspect-history";
import {
  $inspectBusy,
  $inspectError,
  $inspectFrame,
  $inspectHistory,
  $inspectSelection,
  $inspectSession,
  $inspectState,
  loadStep,
  refreshHistory,
} from "./inspect-store";
import type { InspectHistoryResponse, InspectState } from "./inspect-types";
import { $run, applyRewoundRunState, runControl } from "./run-store";
import { $runSeries, showRunStep } from "./runs-store";
import type { RunState } from "./runs-types";
import { type BranchLine, branchLine, historyUpTo, seriesUpTo } from "./rewind-lines";
import type { BranchSummary, RewindFields, RewindTarget } from "./rewind-types";
import { actionError, errorDetail, whileBusy } from "./store-actions";
import { decodeFrame, type StepFrame } from "./tensor-frame";

/** The most steps one branch history answer holds (the API's limit). */
const HISTORY_PAGE = 10_000;
const PREFIX: Record<RewindTarget, string> = { inspect: "/inspect", run: "/runs" };

/** The path of a branch's held steps (`…/{n}` is one, `…/{n}/tensor/{key}` one of its tensors). */
export function branchStepsPath(target: RewindTarget, branch: number): string {
  return `${PREFIX[target]}/branches/${branch}/step`;
}

/** Each target's branches, as lines (oldest first), and the session or run they belong to. */
export interface BranchLines {
  owner: string | null;
  lines: BranchLine[];
}

const NO_LINES: BranchLines = { owner: null, lines: [] };

/** The inspector session's branches as lines (read on the inspect page only). */
export const $inspectBranchLines = atom<BranchLines>(NO_LINES);
/** The free run's branches as lines (read on the runs page only). */
export const $runBranchLines = atom<BranchLines>(NO_LINES);

const LINES: Record<RewindTarget, typeof $inspectBranchLines> = { inspect: $inspectBranchLines, run: $runBranchLines };

export function branchLinesStore(target: RewindTarget): typeof $inspectBranchLines {
  return LINES[target];
}

/** A branch step being browsed: its frame once loaded. */
export interface BranchStepView {
  target: RewindTarget;
  branch: BranchSummary;
  step: number;
  status: "loading" | "ready" | "error";
  frame: StepFrame | null;
  detail: string | null;
}

export const $branchStep = atom<BranchStepView | null>(null);

/** Colours of the branches' lines, by branch id (the current line keeps the accent colour). */
export const BRANCH_COLORS = ["#d97706", "#7c3aed", "#059669", "#db2777", "#0891b2", "#65a30d"];

export function branchColor(id: number): string {
  return BRANCH_COLORS[(id - 1) % BRANCH_COLORS.length];
}

// ---- actions ---------------------------------------------------------------------------------

/** Goes back to the end of step `step` of the inspector session (`POST /inspect/rewind`). */
export async function rewindInspector(step: number): Promise<void> {
  let done = false;
  await whileBusy($inspectBusy, { action: "rewind", startedAt: Date.now() }, async () => {
    try {
      const answer = await postJSON<InspectState & RewindFields>("/inspect/rewind", { step }, { timeoutMs: 60_000 });
      // The same session, one step further back: the history after `step` left for a branch.
      $inspectState.set(answer);
      $inspectHistory.set(historyUpTo($inspectHistory.get(), step));
      $inspectError.set(null);
      done = true;
    } catch (err) {
      $inspectError.set(actionError(`Rewind to step ${step}`, err));
    }
  });
  if (!done) return;
  closeBranchStep();
  await refreshHistory(true);
  if (step > 0) {
    await loadStep(step);
  } else {
    $inspectFrame.set(null);
    $inspectSelection.set({ step: null, status: "none", detail: null });
  }
  await refreshBranches("inspect");
}

/** Goes back to the end of step `step` of the paused free run (`POST /debug/rewind`). */
export async function rewindRun(step: number): Promise<void> {
  let done = false;
  await runControl("rewind", `Rewind to step ${step}`, async () => {
    const answer = await postJSON<RunState & RewindFields>("/debug/rewind", { step }, { timeoutMs: 60_000 });
    $runSeries.set(seriesUpTo($runSeries.get(), step));
    applyRewoundRunState(answer);
    done = true;
    return answer;
  });
  if (!done) return;
  closeBranchStep();
  if (step > 0) await showRunStep(step);
  await refreshBranches("run");
}

/** Re-reads the target's branches and the losses of those not known yet. */
export async function refreshBranches(target: RewindTarget): Promise<void> {
  const owner = ownerOf(target);
  if (owner === null) {
    LINES[target].set(NO_LINES);
    return;
  }
  try {
    const { branches } = await fetchJSON<{ branches: BranchSummary[] }>(`${PREFIX[target]}/branches`);
    const known = LINES[target].get();
    const lines: BranchLine[] = [];
    for (const branch of branches) {
      const cached = known.owner === owner ? known.lines.find((line) => line.id === branch.id) : undefined;
      lines.push(cached ?? branchLine(branch, await branchHistory(target, branch.id), lossAt(target, branch.fork_step)));
    }
    if (ownerOf(target) === owner) LINES[target].set({ owner, lines });
  } catch {
    // The overlay stays as it was; the next state change tries again.
  }
}

/** Shows a step a branch holds (read-only). */
export async function showBranchStep(target: RewindTarget, branch: BranchSummary, step: number): Promise<void> {
  $branchStep.set({ target, branch, step, status: "loading", frame: null, detail: null });
  try {
    const frame = decodeFrame(await fetchFrame(`${branchStepsPath(target, branch.id)}/${step}`));
    if ($branchStep.get()?.step === step) $branchStep.set({ target, branch, step, status: "ready", frame, detail: null });
  } catch (err) {
    if ($branchStep.get()?.step === step) $branchStep.set({ target, branch, step, status: "error", frame: null, detail: errorDetail(err) });
  }
}

export function closeBranchStep(): void {
  $branchStep.set(null);
}

// ---- internals -------------------------------------------------------------------------------

function ownerOf(target: RewindTarget): string | null {
  return target === "inspect" ? ($inspectSession.get()?.session_id ?? null) : ($run.get()?.run_id ?? null);
}

/** The current line's loss at `step` (null when it is not known here). */
function lossAt(target: RewindTarget, step: number): number | null {
  if (target === "inspect") {
    const history = $inspectHistory.get();
    const i = history.steps.indexOf(step);
    const value = i < 0 ? null : history.columns.loss?.[i];
    return typeof value === "number" ? value : null;
  }
  const series = $runSeries.get();
  for (let i = series.length - 1; i >= 0; i--) if (series.steps[i] === step) return series.loss[i];
  return null;
}

async function branchHistory(target: RewindTarget, id: number): Promise<InspectHistoryResponse> {
  let since = 0;
  const steps: number[] = [];
  const losses: (number | null)[] = [];
  for (;;) {
    const page = await fetchJSON<InspectHistoryResponse>(`${PREFIX[target]}/branches/${id}/history?${historyQuery(since, ["loss"], HISTORY_PAGE)}`);
    steps.push(...page.steps);
    losses.push(...((page.columns.loss ?? []) as (number | null)[]));
    if (!page.more || page.steps.length === 0) return { ...page, steps, columns: { loss: losses } };
    since = page.steps[page.steps.length - 1] + 1;
  }
}

/** The branch ids a state lists, joined (what tells that the lines are out of date). */
function branchKey(owner: string | null, branches: BranchSummary[] | undefined): string {
  return `${owner}:${(branches ?? []).map((branch) => branch.id).join(",")}`;
}

/** Keeps a target's lines in step with the branches its state lists (while a chart shows them). */
function followBranches(target: RewindTarget, key: () => string): () => void {
  let seen = "";
  const check = () => {
    const now = key();
    if (now === seen) return;
    seen = now;
    void refreshBranches(target);
  };
  check();
  return target === "inspect" ? $inspectSession.listen(check) : $run.listen(check);
}

onMount($inspectBranchLines, () => {
  if (typeof window === "undefined") return;
  return followBranches("inspect", () => branchKey($inspectSession.get()?.session_id ?? null, $inspectSession.get()?.branches));
});

onMount($runBranchLines, () => {
  if (typeof window === "undefined") return;
  return followBranches("run", () => branchKey($run.get()?.run_id ?? null, $run.get()?.branches));
});
