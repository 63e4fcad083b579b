import { describe, expect, it } from "vitest";

import { arrowDirection, gridStep, isActivationKey, listStep, nearestInDirection, type Point } from "./keyboard-nav";

describe("arrowDirection and isActivationKey", () => {
  it("names the four arrows and nothing else", () => {
    expect(["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"].map(arrowDirection)).toEqual(["left", "right", "up", "down"]);
    expect(arrowDirection("Enter")).toBeNull();
    expect(arrowDirection("a")).toBeNull();
  });

  it("activates on Enter and Space only", () => {
    expect(isActivationKey("Enter")).toBe(true);
    expect(isActivationKey(" ")).toBe(true);
    expect(isActivationKey("Tab")).toBe(false);
    expect(isActivationKey("ArrowDown")).toBe(false);
  });
});

describe("listStep", () => {
  it("moves one item with the arrows and stops at the ends", () => {
    expect(listStep("ArrowDown", 0, 5)).toBe(1);
    expect(listStep("ArrowUp", 3, 5)).toBe(2);
    expect(listStep("ArrowDown", 4, 5)).toBe(4);
    expect(listStep("ArrowUp", 0, 5)).toBe(0);
  });

  it("jumps a page or to either end", () => {
    expect(listStep("PageDown", 2, 64, 10)).toBe(12);
    expect(listStep("PageDown", 60, 64, 10)).toBe(63);
    expect(listStep("PageUp", 5, 64, 10)).toBe(0);
    expect(listStep("Home", 30, 64)).toBe(0);
    expect(listStep("End", 3, 64)).toBe(63);
  });

  it("ignores other keys, including sideways arrows, and empty lists", () => {
    expect(listStep("ArrowLeft", 2, 5)).toBeNull();
    expect(listStep("Enter", 2, 5)).toBeNull();
    expect(listStep("ArrowDown", 0, 0)).toBeNull();
  });

  it("starts at the first item from outside the list (End at the last)", () => {
    expect(listStep("ArrowDown", -1, 5)).toBe(0);
    expect(listStep("End", 9, 5)).toBe(4);
    expect(listStep("x", -1, 5)).toBeNull();
  });
});

describe("gridStep", () => {
  // 10 cells, 4 to a row:  0 1 2 3 / 4 5 6 7 / 8 9
  it("moves by one cell and stops at the row's ends", () => {
    expect(gridStep("ArrowRight", 5, 10, 4)).toBe(6);
    expect(gridStep("ArrowRight", 7, 10, 4)).toBe(7);
    expect(gridStep("ArrowLeft", 4, 10, 4)).toBe(4);
    expect(gridStep("ArrowLeft", 6, 10, 4)).toBe(5);
    expect(gridStep("ArrowRight", 9, 10, 4)).toBe(9); // the short last row ends at 9
  });

  it("keeps the column up and down; a short last row takes its last cell", () => {
    expect(gridStep("ArrowDown", 1, 10, 4)).toBe(5);
    expect(gridStep("ArrowUp", 5, 10, 4)).toBe(1);
    expect(gridStep("ArrowUp", 2, 10, 4)).toBe(2);
    expect(gridStep("ArrowDown", 7, 10, 4)).toBe(9);
    expect(gridStep("ArrowDown", 9, 10, 4)).toBe(9);
  });

  it("goes to the row's ends with Home/End, the grid's with Ctrl, and pages rows", () => {
    expect(gridStep("Home", 6, 10, 4)).toBe(4);
    expect(gridStep("End", 5, 10, 4)).toBe(7);
    expect(gridStep("End", 8, 10, 4)).toBe(9);
    expect(gridStep("Home", 6, 10, 4, { ctrl: true })).toBe(0);
    expect(gridStep("End", 1, 10, 4, { ctrl: true })).toBe(9);
    expect(gridStep("PageDown", 1, 10, 4, { pageRows: 2 })).toBe(9);
    expect(gridStep("PageUp", 9, 10, 4, { pageRows: 5 })).toBe(1);
  });

  it("works as a single row (a bar chart) and ignores other keys", () => {
    expect(gridStep("ArrowRight", 0, 64, 64)).toBe(1);
    expect(gridStep("ArrowDown", 3, 64, 64)).toBe(3);
    expect(gridStep("End", 3, 64, 64)).toBe(63);
    expect(gridStep("Enter", 3, 64, 64)).toBeNull();
    expect(gridStep("ArrowRight", 0, 0, 4)).toBeNull();
    expect(gridStep("ArrowRight", -1, 10, 4)).toBe(0);
  });
});

describe("nearestInDirection", () => {
  //   0 (0,0)        1 (10,0)      2 (30,1)
  //   3 (0,10)       4 (11,30)
  const grid: Point[] = [
    { x: 0, y: 0 },
    { x: 10, y: 0 },
    { x: 30, y: 1 },
    { x: 0, y: 10 },
    { x: 11, y: 30 },
  ];

  it("takes the nearest point that lies that way", () => {
    expect(nearestInDirection(grid, 0, "right")).toBe(1);
    expect(nearestInDirection(grid, 1, "right")).toBe(2);
    expect(nearestInDirection(grid, 0, "down")).toBe(3);
    expect(nearestInDirection(grid, 3, "up")).toBe(0);
    expect(nearestInDirection(grid, 2, "left")).toBe(1);
  });

  it("weighs the sideways distance double", () => {
    // From 3 (0,10) right: 1 is 10 along and 10 across (30), 4 is 11 along and 20 across (51).
    expect(nearestInDirection(grid, 3, "right")).toBe(1);
    // From 1 (10,0) down: 3 is 10 down and 10 across (30), 4 is 30 down and 1 across (32).
    expect(nearestInDirection(grid, 1, "down")).toBe(3);
    const row: Point[] = [
      { x: 0, y: 0 },
      { x: 5, y: 20 },
      { x: 30, y: 0 },
    ];
    expect(nearestInDirection(row, 0, "right")).toBe(2); // 30 straight ahead beats 5 + 40
  });

  it("stays put when nothing lies that way", () => {
    expect(nearestInDirection(grid, 0, "left")).toBe(0);
    expect(nearestInDirection(grid, 0, "up")).toBe(0);
    expect(nearestInDirection(grid, 2, "right")).toBe(2);
    expect(nearestInDirection([], 0, "right")).toBe(0);
  });

  it("walks a stack of points on one place by index, then leaves it", () => {
    const stack: Point[] = [
      { x: 50, y: 50 },
      { x: 0, y: 0 },
      { x: 0.2, y: 0 },
      { x: 0, y: 0.1 },
      { x: 80, y: 0 },
    ];
    expect(nearestInDirection(stack, 1, "right")).toBe(2);
    expect(nearestInDirection(stack, 2, "right")).toBe(3);
    // Then the nearest to the right: (80, 0) scores 80, (50, 50) 50 + 2 · 50.
    expect(nearestInDirection(stack, 3, "right")).toBe(4);
    expect(nearestInDirection(stack, 3, "left")).toBe(2);
  });

  it("lands on the end of a stack that the same key walks", () => {
    const stack: Point[] = [
      { x: 0, y: 0 },
      { x: 0, y: 0 },
      { x: 0, y: 0 },
      { x: 20, y: 0 },
      { x: -20, y: 0 },
    ];
    expect(nearestInDirection(stack, 3, "left")).toBe(2);
    expect(nearestInDirection(stack, 2, "left")).toBe(1);
    expect(nearestInDirection(stack, 1, "left")).toBe(0);
    expect(nearestInDirection(stack, 0, "left")).toBe(4);
    expect(nearestInDirection(stack, 4, "right")).toBe(0);
    expect(nearestInDirection(stack, 0, "right")).toBe(1);
  });

  it("ignores points without finite coordinates", () => {
    const points: Point[] = [
      { x: 0, y: 0 },
      { x: Number.NaN, y: 0 },
      { x: 40, y: 0 },
    ];
    expect(nearestInDirection(points, 0, "right")).toBe(2);
    expect(nearestInDirection(points, 1, "right")).toBe(1);
  });
});
