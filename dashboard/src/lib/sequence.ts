// The one guard the page stores use against stale answers: requests of one kind (the trajectories,
// the decoded codes …) can answer out of order, and a new run makes every answer in flight stale.
// Each request takes a ticket; its answer is used only while that ticket is still the newest.

export interface Sequence {
  /** A ticket for a new request; every ticket taken before it is stale from now on. */
  next(): number;
  /** True while `ticket` is the newest one: no later `next()` and no `invalidate()` since. */
  isCurrent(ticket: number): boolean;
  /** Makes every ticket taken so far stale (a new run, another level shown …). */
  invalidate(): void;
}

export function sequence(): Sequence {
  let newest = 0;
  return {
    next: () => ++newest,
    isCurrent: (ticket) => ticket === newest,
    invalidate: () => {
      newest++;
    },
  };
}
