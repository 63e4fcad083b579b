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
