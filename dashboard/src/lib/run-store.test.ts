import { beforeEach, describe, expect, it } from "vitest";

import {
  $run,
  $runBusy,
  $runError,
  $runState,
  $runStep,
  advanceRun,
  applyRunState,
  attachRunPage,
  isCurrentRun,
  runSequence,
  showRunError,
} from "./run-store";
import { ApiError } from "./api";
import type { RunState, RunStateActive, RunStatus } from "./runs-types";

function runState(runId: string, step: number, status: RunStatus = "running", version = 0): RunStateActive {
  return {
    active: true,
    run_id: runId,
    recipe: "gradient_gating_l0",
    condition: "bcl-med",
    seed: 0,
    steps: 100,
    capture_every: 10,
    status,
    step,
    blocked: status === "paused",
    last_full_step: null,
    retained: null,
    model_dim: 16,
    error: null,
    traceback: null,
    started_at: 0,
    finished_at: null,
    steps_per_second: 0,
    first_nonfinite: null,
    conditions: ["bcl-med"],
    watched: [],
    recipes: ["gradient_gating_l0"],
    recipe_conditions: {},
    version,
  };
}

const seen: { state: RunState; previous: string | null }[] = [];
attachRunPage({ onState: (state, previous) => seen.push({ state, previous: previous?.run_id ?? null }) });

beforeEach(() => {
  $runState.set(null);
  $runError.set(null);
  $runBusy.set(null);
  seen.length = 0;
});

describe("applyRunState", () => {
  it("makes the tickets of runSequence() stale on a new run only", () => {
    const seq = runSequence();
    applyRunState(runState("a", 1));
    const ticket = seq.next();
    applyRunState(runState("a", 2));
    expect(seq.isCurrent(ticket)).toBe(true);
    applyRunState(runState("b", 0));
    expect(seq.isCurrent(ticket)).toBe(false);
  });

  it("never moves the step of one run back, and tells each page the run before", () => {
    applyRunState(runState("a", 7));
    applyRunState(runState("a", 5, "paused"));
    expect($run.get()).toMatchObject({ run_id: "a", step: 7, status: "paused" });
    expect($runStep.get()).toBe(7);
    applyRunState(runState("b", 0));
    expect($run.get()?.step).toBe(0);
    expect(seen.map((s) => s.previous)).toEqual([null, "a", "a"]);
    expect(isCurrentRun("b")).toBe(true);
    expect(isCurrentRun("a")).toBe(false);
    expect(isCurrentRun(null)).toBe(false);
  });
});

describe("applyRunState and versions", () => {
  it("drops an answer read before the state shown, however late it arrives", () => {
    applyRunState(runState("a", 0, "running", 3)); // Resume's answer, read first ...
    const reason = { condition: "nonfinite", step: 4, value: null, where: "encoder.0 output", threshold: null, message: "NaN" };
    applyRunState({ ...runState("a", 4, "paused", 9), break_reason: reason }); // ... the stream's breakpoint pause
    applyRunState(runState("a", 0, "running", 3)); // the same answer, delivered late
    expect($run.get()).toMatchObject({ step: 4, status: "paused", version: 9, break_reason: reason });
    expect(seen).toHaveLength(2);
    applyRunState(runState("a", 5, "running", 12)); // a newer one is taken
    expect($run.get()).toMatchObject({ step: 5, status: "running" });
    applyRunState(runState("b", 0, "running", 1)); // a new run's first state, whatever its version
    expect($run.get()).toMatchObject({ run_id: "b", step: 0 });
  });
});

describe("advanceRun", () => {
  it("does nothing unless the run waits paused", async () => {
    applyRunState(runState("a", 3));
    expect(await advanceRun(1, async () => 4)).toBe(false);
  });

  it("moves the run to the step reached (kept in full) and holds the busy flag meanwhile", async () => {
    applyRunState(runState("a", 3, "paused"));
    $runError.set({ action: "x", status: 0, code: "e", detail: "", traceback: null, at: 0 });
    let busy: unknown = null;
    const ran = await advanceRun(10, async () => {
      busy = $runBusy.get();
      return 13;
    });
    expect(ran).toBe(true);
    expect(busy).toMatchObject({ action: "step" });
    expect($runBusy.get()).toBeNull();
    expect($run.get()).toMatchObject({ step: 13, last_full_step: 13 });
    expect($runError.get()).toBeNull();
  });

  it("shows a failed step with its count", async () => {
    applyRunState(runState("a", 3, "paused"));
    await advanceRun(10, () => Promise.reject(new ApiError(409, "busy", "held")));
    expect($runError.get()).toMatchObject({ action: "Step ×10", status: 409, detail: "held" });
    expect($run.get()?.step).toBe(3);
  });
});

describe("showRunError", () => {
  it("keeps a quiet failure from replacing a shown error or reporting an unreachable trainer", () => {
    showRunError("Read the trajectories", new ApiError(0, "network_error", "down"), true);
    expect($runError.get()).toBeNull();
    showRunError("Stop", new ApiError(500, "boom", "x"));
    showRunError("Read the trajectories", new ApiError(404, "gone", "y"), true);
    expect($runError.get()?.action).toBe("Stop");
  });
});
