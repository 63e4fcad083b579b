import { describe, expect, it } from "vitest";

import { KEY_META } from "./generated/tensor-keys";
import {
  appendHistory,
  EMPTY_HISTORY,
  historyQuery,
  mergeFailures,
  ROW_HISTORY_KEYS,
  SCALAR_HISTORY_KEYS,
} from "./inspect-history";
import type { InspectHistoryResponse } from "./inspect-types";

const page = (fields: Partial<InspectHistoryResponse> & Pick<InspectHistoryResponse, "since" | "steps">): InspectHistoryResponse => ({
  columns: {},
  nonfinite: {},
  more: false,
  vectors_from: null,
  failed: [],
  ...fields,
});

const boom = (step: number, message = "boom") => ({ step, error: "RuntimeError", message });

describe("the keys the page asks for", () => {
  it("keeps every scalar history key for all steps, and labels one step at a time", () => {
    expect(SCALAR_HISTORY_KEYS).toContain("loss");
    expect(SCALAR_HISTORY_KEYS).toContain("weight_cosine_mean");
    for (const key of SCALAR_HISTORY_KEYS) {
      expect(KEY_META[key].history).toBe(true);
      expect(KEY_META[key].shape).toEqual([]);
    }
    expect(SCALAR_HISTORY_KEYS).not.toContain("win_rate");
    expect(ROW_HISTORY_KEYS).toEqual(["batch_labels"]);
    expect(KEY_META.batch_labels.history).toBe(true);
  });

  it("writes the query", () => {
    expect(historyQuery(5, [])).toBe("since=5");
    expect(historyQuery(5, ["loss", "weight_cosine_mean"])).toBe("since=5&keys=loss,weight_cosine_mean");
    expect(historyQuery(7, ["batch_labels"], 1)).toBe("since=7&limit=1&keys=batch_labels");
  });
});

describe("appendHistory", () => {
  const start = { ...EMPTY_HISTORY, sessionId: "s" };

  it("appends pages in order, a column missing from a page is null there", () => {
    const one = appendHistory(start, page({ since: 1, steps: [1, 2], columns: { loss: [0.5, 0.4] }, more: true }));
    const two = appendHistory(one, page({ since: 3, steps: [3], columns: { loss: [0.3], weight_cosine_mean: [0.1] } }));
    const three = appendHistory(two, page({ since: 4, steps: [4], columns: { weight_cosine_mean: [0.2] } }));
    expect(three.steps).toEqual([1, 2, 3, 4]);
    expect(three.columns.loss).toEqual([0.5, 0.4, 0.3, null]);
    expect(three.columns.weight_cosine_mean).toEqual([null, null, 0.1, 0.2]);
    expect(one.steps).toEqual([1, 2]); // the earlier object is left as it was
  });

  it("skips steps it already has and returns the same object when nothing changed", () => {
    const one = appendHistory(start, page({ since: 1, steps: [1, 2], columns: { loss: [0.5, 0.4] } }));
    const again = appendHistory(one, page({ since: 2, steps: [2, 3], columns: { loss: [0.4, 0.3] } }));
    expect(again.steps).toEqual([1, 2, 3]);
    expect(again.columns.loss).toEqual([0.5, 0.4, 0.3]);
    expect(appendHistory(again, page({ since: 4, steps: [] }))).toBe(again);
  });

  it("keeps null vector rows (older than vectors_from) and NaN counts", () => {
    const answer = page({
      since: 1,
      steps: [1, 2, 3],
      columns: { batch_labels: [null, null, [3, 1, 4]], loss: [null, 0.2, 0.1] },
      nonfinite: { loss: 1 },
      vectors_from: 3,
    });
    const history = appendHistory(start, answer);
    expect(history.columns.batch_labels).toEqual([null, null, [3, 1, 4]]);
    expect(history.vectorsFrom).toBe(3);
    expect(history.nonfinite).toEqual({ loss: 1 });
    const more = appendHistory(history, page({ since: 4, steps: [4], columns: { loss: [null] }, nonfinite: { loss: 1 } }));
    expect(more.nonfinite).toEqual({ loss: 2 });
    expect(more.vectorsFrom).toBe(3); // a page without it keeps the last one known
  });

  it("takes the failed attempts at steps >= since from each answer, even with no new step", () => {
    const one = appendHistory(start, page({ since: 1, steps: [1, 2], failed: [boom(2, "first")] }));
    expect(one.failed).toEqual([boom(2, "first")]);
    // The next answer starts at 3: the attempt at 2 stays, the attempt at 3 (no step 3 yet) comes in.
    const two = appendHistory(one, page({ since: 3, steps: [], failed: [boom(3)] }));
    expect(two.steps).toEqual([1, 2]);
    expect(two.failed).toEqual([boom(2, "first"), boom(3)]);
    // Asked again from 3, the same attempt is not counted twice; a second one at 3 is.
    const three = appendHistory(two, page({ since: 3, steps: [3], failed: [boom(3), boom(3)] }));
    expect(three.failed).toEqual([boom(2, "first"), boom(3), boom(3)]);
    expect(appendHistory(three, page({ since: 4, steps: [] }))).toBe(three);
  });
});

describe("mergeFailures", () => {
  it("is the union of both lists, each attempt as often as in the list with most of it", () => {
    expect(mergeFailures([boom(2)], [])).toEqual([boom(2)]);
    expect(mergeFailures([], [boom(2)])).toEqual([boom(2)]);
    expect(mergeFailures([boom(2), boom(5)], [boom(2), boom(2), boom(9)])).toEqual([boom(2), boom(2), boom(5), boom(9)]);
  });
});
