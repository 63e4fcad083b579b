import { useState } from "react";

import { formatCount } from "../../lib/format";
import type { StepFrame } from "../../lib/tensor-frame";
import { summarizeNonFinite } from "../../lib/views/nonfinite";

/** Keys named before "+N more" (a diverged step has non-finite values in nearly every key). */
const SHOWN = 8;

/** A warning naming every key of the step that holds NaN or ±Inf values, and how many. Nothing
 * when the step is all finite. */
export default function NonFiniteBadge({ frame }: { frame: StepFrame }) {
  const [all, setAll] = useState(false);
  const { entries, total } = summarizeNonFinite(frame.header.nonfinite);
  if (entries.length === 0) return null;
  const shown = all ? entries : entries.slice(0, SHOWN);
  return (
    <div className="nonfinite-badge" role="alert" data-testid="nonfinite-badge" data-step={frame.step}>
      <svg className="nonfinite-icon" viewBox="0 0 20 20" aria-hidden="true">
        <path d="M10 2.5l8 14.5H2z" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinejoin="round" />
        <path d="M10 8v4.2M10 14.6v.1" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
      </svg>
      <span className="nonfinite-title">
        {formatCount(total)} non-finite value{total === 1 ? "" : "s"} in step {formatCount(frame.step)}
      </span>
      <span className="nonfinite-keys">
        {shown.map(([key, n]) => (
          <span key={key} className="nonfinite-key" data-key={key} data-count={n}>
            <span className="mono">{key}</span> ×{formatCount(n)}
          </span>
        ))}
        {entries.length > SHOWN && (
          <button type="button" className="nonfinite-more" onClick={() => setAll(!all)} data-testid="nonfinite-more">
            {all ? "fewer" : `+${entries.length - SHOWN} more keys`}
          </button>
        )}
      </span>
    </div>
  );
}
