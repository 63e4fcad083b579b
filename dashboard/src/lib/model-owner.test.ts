import { describe, expect, it } from "vitest";

import type { InspectState } from "./inspect-types";
import { blockingOwner, canRelease, ownerLabel, ownerOf, shortId } from "./model-owner";

const inactive = (owner: string | null, detail?: InspectState["owner_detail"]): InspectState => ({
  active: false,
  recipes: ["gradient_gating_l0"],
  conditions: ["control", "bcl-med"],
  default_condition: "bcl-med",
  owner,
  ...(detail === undefined ? {} : { owner_detail: detail }),
});

describe("who holds the model", () => {
  it("reads owner_detail when the trainer sends it", () => {
    const detail = { kind: "free run", id: "3fa2c1d4e5f6", name: "the free run 3fa2c1d4e5f6" };
    expect(ownerOf(inactive("the free run 3fa2c1d4e5f6", detail))).toEqual(detail);
  });

  it("parses the owner sentence without owner_detail", () => {
    expect(ownerOf(inactive("the free run 3fa2c1d4e5f6"))).toEqual({
      kind: "free run",
      id: "3fa2c1d4e5f6",
      name: "the free run 3fa2c1d4e5f6",
    });
    expect(ownerOf(inactive("the inspector session"))).toEqual({ kind: "inspector session", id: "", name: "the inspector session" });
    expect(ownerOf(inactive("someone else"))).toEqual({ kind: "", id: "", name: "someone else" });
    expect(ownerOf(inactive(null))).toBeNull();
    expect(ownerOf(null)).toBeNull();
  });

  it("blocks the inspector only for another owner while it has no session", () => {
    expect(blockingOwner(inactive("the free run 3fa2c1d4e5f6"))?.id).toBe("3fa2c1d4e5f6");
    expect(blockingOwner(inactive("the inspector session ab12"))).toBeNull();
    expect(blockingOwner(inactive(null))).toBeNull();
    const active = { ...inactive("the inspector session ab12"), active: true } as unknown as InspectState;
    expect(blockingOwner(active)).toBeNull();
  });

  it("releases free runs only, and names them short", () => {
    const run = ownerOf(inactive("the free run 3fa2c1d4e5f6"));
    expect(canRelease(run)).toBe(true);
    expect(canRelease(ownerOf(inactive("someone else")))).toBe(false);
    expect(canRelease(null)).toBe(false);
    expect(ownerLabel(run!)).toBe("the free run 3fa2c1…");
    expect(ownerLabel({ kind: "", id: "", name: "someone else" })).toBe("someone else");
    expect(shortId("abc")).toBe("abc");
    expect(shortId("abcdefg")).toBe("abcdefg");
    expect(shortId("abcdefgh")).toBe("abcdef…");
  });
});
