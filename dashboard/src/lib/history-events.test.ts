import { describe, expect, it } from "vitest";

import { stepEvents } from "./history-store";
import type { ArchivedRun } from "./history-types";

const run = (events: ArchivedRun["events"]): ArchivedRun => ({ events }) as ArchivedRun;

describe("stepEvents", () => {
  it("keeps the live edits and breakpoints of an archived run, as step events", () => {
    const events = stepEvents(
      run([
        { step: 3, wall: 1, kind: "pause" },
        { step: 5, wall: 2, kind: "hparam", name: "lr", old: 0.001, new: 0.01 },
        { step: 7, wall: 3, kind: "breakpoint", name: "loss_above", old: 1, new: 1.5 },
        { step: null, wall: 4, kind: "hparam", name: "lr", old: 0.01, new: 0.1 },
      ]),
    );
    expect(events).toEqual([
      { step: 5, kind: "hparam", name: "lr", old: 0.001, new: 0.01 },
      { step: 7, kind: "breakpoint", name: "loss_above", old: 1, new: 1.5 },
    ]);
  });
});
