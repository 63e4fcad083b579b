import { atom } from "nanostores";
import { describe, expect, it } from "vitest";

import { ApiError } from "./api";
import { actionError, errorDetail, whileBusy } from "./store-actions";

describe("actionError", () => {
  it("reads a plain error", () => {
    const e = actionError("Step", new TypeError("boom"));
    expect(e).toMatchObject({ action: "Step", status: 0, code: "TypeError", detail: "boom", traceback: null });
    expect(typeof e.at).toBe("number");
  });

  it("reads a non-error value", () => {
    expect(actionError("Stop", "gone")).toMatchObject({ code: "error", detail: "gone" });
  });

  it("passes an ApiError's detail through errorDetail", () => {
    const err = new ApiError(409, "busy", "d", "tb");
    expect(errorDetail(err)).toBe("d");
    expect(actionError("Start", err)).toMatchObject({ status: 409, code: "busy", detail: "d", traceback: "tb" });
  });
});

describe("whileBusy", () => {
  it("holds the flag while the work runs and clears it after, also on a throw", async () => {
    const $busy = atom<{ action: string } | null>(null);
    let seen: unknown = null;
    expect(await whileBusy($busy, { action: "step" }, async () => void (seen = $busy.get()))).toBe(true);
    expect(seen).toEqual({ action: "step" });
    expect($busy.get()).toBeNull();
    await expect(whileBusy($busy, { action: "x" }, () => Promise.reject(new Error("no")))).rejects.toThrow("no");
    expect($busy.get()).toBeNull();
  });

  it("does nothing while another action holds the flag", async () => {
    const $busy = atom<{ action: string } | null>({ action: "start" });
    let ran = false;
    expect(await whileBusy($busy, { action: "step" }, async () => void (ran = true))).toBe(false);
    expect(ran).toBe(false);
    expect($busy.get()).toEqual({ action: "start" });
  });
});
