import { formatCount } from "../lib/format";
import type { FirstNonFinite } from "../lib/inspect-types";

/**
 * Where NaN/Inf first appeared in the whole session or run (unlike the per-step NonFiniteBadge,
 * which lists the keys of the step on screen). A click shows that step.
 */
export default function FirstNonFiniteBadge(props: {
  first: FirstNonFinite;
  /** Whether that step is the one on screen. */
  shown: boolean;
  onJump: () => void;
  /** Why the step cannot be shown, when it cannot. */
  note: string | null;
  testId: string;
}) {
  const { first } = props;
  return (
    <div className="first-nonfinite" data-testid={props.testId} data-step={first.step} data-key={first.key} data-count={first.count}>
      <button
        type="button"
        className="first-nonfinite-jump"
        onClick={props.onJump}
        aria-current={props.shown ? "step" : undefined}
        title={props.shown ? `Step ${first.step} is on screen` : `Show step ${first.step}`}
        data-testid={`${props.testId}-jump`}
      >
        <svg className="nonfinite-icon" viewBox="0 0 20 20" aria-hidden="true">
          <path d="M10 2.5l8 14.5H2z" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinejoin="round" />
          <path d="M10 8v4.2M10 14.6v.1" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
        </svg>
        <span className="first-nonfinite-text" data-testid={`${props.testId}-text`}>
          NaN/Inf first at step <strong className="mono">{formatCount(first.step)}</strong> in{" "}
          <span className="mono first-nonfinite-key">{first.key}</span> ({formatCount(first.count)}{" "}
          {first.count === 1 ? "value" : "values"})
        </span>
        <span className="first-nonfinite-action">{props.shown ? "on screen" : "show step →"}</span>
      </button>
      {props.note && (
        <span className="first-nonfinite-note" data-testid={`${props.testId}-note`}>
          {props.note}
        </span>
      )}
    </div>
  );
}
