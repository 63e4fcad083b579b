// Refetch throttling: a run sends `steps` events ten times a second; the views that follow it
// (the runs page's trajectories and forces, each codebook view) ask the trainer at most once per
// `ms`, leading and trailing, never overlapped.

export interface ThrottleClock {
  now: () => number;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (id: unknown) => void;
}

const REAL_CLOCK: ThrottleClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

export interface Throttled {
  /** Ask for a call: now when the last one is `ms` old, else once when that time has passed. */
  (): void;
  /** Drop a pending call. */
  cancel(): void;
}

/**
 * Calls `fn` at most once per `ms`, leading and trailing: the first request runs at once, requests
 * during the wait collapse into one call at its end. An async `fn` is not overlapped: the next call
 * waits until the previous promise settles. `now` and the timer functions are injectable for tests.
 */
export function throttle(
  fn: () => unknown,
  ms: number,
  clock: ThrottleClock = REAL_CLOCK,
): Throttled {
  let last = -Infinity;
  let timer: unknown = null;
  let running = false;
  let again = false;

  const run = () => {
    timer = null;
    if (running) {
      again = true; // the previous call is still out: go once it is back
      return;
    }
    last = clock.now();
    const result = fn();
    if (result instanceof Promise) {
      running = true;
      void result.finally(() => {
        running = false;
        if (again) {
          again = false;
          request();
        }
      });
    }
  };

  const request = () => {
    if (timer !== null) return;
    const wait = last + ms - clock.now();
    if (wait <= 0) run();
    else timer = clock.setTimeout(run, wait);
  };

  const throttled = request as Throttled;
  throttled.cancel = () => {
    if (timer !== null) clock.clearTimeout(timer);
    timer = null;
    again = false;
  };
  return throttled;
}

export interface ThrottledQueue<T> {
  /** Queue `item`: applied now when the last application is `ms` old, else with the others at its end. */
  push(item: T): void;
  /** Apply everything queued now, in order (e.g. before something that must come after it). */
  flush(): void;
  /** Drop what is queued and the pending application. */
  cancel(): void;
}

/**
 * Items applied in order, at most one batch per `ms` (leading and trailing, as `throttle`): what
 * arrives during the wait is applied together at its end, so a view that redraws on every item
 * redraws once for the batch.
 */
export function throttledQueue<T>(apply: (item: T) => void, ms: number, clock: ThrottleClock = REAL_CLOCK): ThrottledQueue<T> {
  let queued: T[] = [];
  const flush = () => {
    const items = queued;
    queued = [];
    for (const item of items) apply(item);
  };
  const soon = throttle(flush, ms, clock);
  return {
    push(item) {
      queued.push(item);
      soon();
    },
    flush,
    cancel() {
      soon.cancel();
      queued = [];
    },
  };
}
