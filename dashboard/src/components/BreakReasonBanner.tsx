import { useStore } from "@nanostores/react";
import { useEffect, useState } from "react";

import { formatCount } from "../lib/format";
import { loadStep } from "../lib/inspect-store";
import { showRunStep } from "../lib/runs-store";
import { loopStore, type SteeringTarget } from "../lib/steering-store";
import "../styles/steering.css";

/**
 * Why the loop stopped: the breakpoint that fired, at which step, with what value, and for a
 * non-finite value the first module it showed in. "Show step" brings that step on screen.
 */
export default function BreakReasonBanner(props: { target: SteeringTarget }) {
  const { target } = props;
  const loop = useStore(loopStore(target), { ssr: () => null });
  const [note, setNote] = useState<string | null>(null);
  const reason = loop?.breakReason;
  const breakStep = reason?.step ?? null;
  const loopId = loop?.id ?? null;
  // A run that just stopped shows the step where it stopped (the inspector's Step ×N already
  // answered with it).
  useEffect(() => {
    if (target === "run" && loopId !== null && breakStep !== null) void showRunStep(breakStep);
  }, [target, loopId, breakStep]);
  if (!loop || !reason) return null;
  const jump = async () => {
    if (target === "inspect") {
      await loadStep(reason.step);
      return;
    }
    const why = await showRunStep(reason.step);
    setNote(why);
    if (!why) document.querySelector('[data-testid="runs-step-panel"]')?.scrollIntoView({ block: "start", behavior: "smooth" });
  };
  return (
    <div
      className="break-reason"
      role="status"
      data-testid={`${target}-break-reason`}
      data-step={reason.step}
      data-condition={reason.condition}
      data-where={reason.where ?? ""}
    >
      <svg className="break-reason-icon" viewBox="0 0 20 20" aria-hidden="true">
        <path d="M6.5 2h7L18 6.5v7L13.5 18h-7L2 13.5v-7z" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinejoin="round" />
        <path d="M7 10h6" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" />
      </svg>
      <span className="break-reason-text" data-testid={`${target}-break-reason-text`}>
        Stopped by breakpoint <strong className="mono">{reason.condition}</strong> at step{" "}
        <strong className="mono">{formatCount(reason.step)}</strong>
        {reason.where ? (
          <>
            {": "}
            <span className="mono">{reason.where}</span>
          </>
        ) : null}
        {reason.condition !== "nonfinite" && reason.value !== null ? ` (value ${reason.value.toPrecision(4)}, threshold ${reason.threshold})` : null}
      </span>
      {target !== "model" && (
        <button type="button" className="btn" onClick={() => void jump()} data-testid={`${target}-break-reason-jump`}>
          Show step {formatCount(reason.step)} →
        </button>
      )}
      {note && <span className="steering-help">{note}</span>}
    </div>
  );
}
