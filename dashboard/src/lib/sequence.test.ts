import { describe, expect, it } from "vitest";

import { sequence } from "./sequence";

describe("sequence", () => {
  it("keeps only the newest ticket current", () => {
    const seq = sequence();
    const first = seq.next();
    expect(seq.isCurrent(first)).toBe(true);
    const second = seq.next();
    expect(seq.isCurrent(first)).toBe(false);
    expect(seq.isCurrent(second)).toBe(true);
  });

  it("makes every ticket stale on invalidate, and the next one current again", () => {
    const seq = sequence();
    const ticket = seq.next();
    seq.invalidate();
    expect(seq.isCurrent(ticket)).toBe(false);
    expect(seq.isCurrent(seq.next())).toBe(true);
  });

  it("drops an answer that arrives after a newer request's (out of order)", async () => {
    const seq = sequence();
    const shown: string[] = [];
    const request = async (answer: string, delayMs: number) => {
      const ticket = seq.next();
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (seq.isCurrent(ticket)) shown.push(answer);
    };
    await Promise.all([request("old", 20), request("new", 1)]);
    expect(shown).toEqual(["new"]);
  });

  it("keeps separate sequences apart", () => {
    const a = sequence();
    const b = sequence();
    const ta = a.next();
    b.next();
    b.invalidate();
    expect(a.isCurrent(ta)).toBe(true);
  });
});
