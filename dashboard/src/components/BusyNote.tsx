import { useEffect, useState } from "react";

import { formatDuration } from "../lib/format";

/** A control call in flight: which one, and since when (epoch ms). */
export interface Busy<A extends string = string> {
  action: A;
  startedAt: number;
}

/**
 * What is running, with its elapsed time ticking every 0.1 s; polite for screen readers. The
 * chip has test id `testId` and data-action; the note's box stays (empty) while nothing runs.
 */
export default function BusyNote<B extends Busy>(props: { busy: B | null; text: (busy: B) => string; testId: string }) {
  const { busy } = props;
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!busy) return;
    // Ticks from the next 0.1 s; until then a `now` from before the call shows 0.0 s.
    const timer = setInterval(() => setNow(Date.now()), 100);
    return () => clearInterval(timer);
  }, [busy]);
  return (
    <span className="busy-note" aria-live="polite">
      {busy && (
        <span className="busy-chip" data-testid={props.testId} data-action={busy.action}>
          <span className="spinner spinner-sm" aria-hidden="true" />
          {props.text(busy)}
          <span className="busy-time mono">{formatDuration(Math.max(0, now - busy.startedAt))}</span>
        </span>
      )}
    </span>
  );
}
