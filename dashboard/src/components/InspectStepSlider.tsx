import { useStore } from "@nanostores/react";
import type { CSSProperties } from "react";

import { formatCount } from "../lib/format";
import { $inspectLatestStep, $inspectSelection, $inspectSession, loadStep } from "../lib/inspect-store";

/** Scrub through the steps so far; the track marks the steps whose full tensors are still held. */
export default function InspectStepSlider() {
  const session = useStore($inspectSession, { ssr: () => null });
  const latest = useStore($inspectLatestStep, { ssr: () => 0 });
  const selection = useStore($inspectSelection, { ssr: "initial" });

  const value = Math.max(1, selection.step ?? latest);
  const enabled = session !== null && latest >= 1;
  const span = Math.max(1, latest - 1);
  const held = session?.retained;
  // Where the held range sits on the track, as percentages (the thumb centre runs 0%..100%).
  const style = {
    "--held-from": held ? `${((held[0] - 1) / span) * 100}%` : "100%",
    "--held-to": held ? `${((held[1] - 1) / span) * 100}%` : "100%",
  } as CSSProperties;

  return (
    <div className="slider-row">
      <button
        type="button"
        className="btn btn-icon"
        aria-label="Previous step"
        title="Previous step"
        data-testid="inspect-prev-btn"
        disabled={!enabled || value <= 1}
        onClick={() => void loadStep(value - 1)}
      >
        <svg viewBox="0 0 20 20" aria-hidden="true">
          <path d="M12 5l-5 5 5 5" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
        </svg>
      </button>
      <input
        type="range"
        className="step-slider"
        data-testid="inspect-slider"
        aria-label="Step to show"
        aria-valuetext={`step ${value} of ${latest}`}
        min={1}
        max={Math.max(1, latest)}
        step={1}
        value={enabled ? value : 1}
        disabled={!enabled || latest < 2}
        style={style}
        onChange={(event) => void loadStep(Number(event.target.value))}
      />
      <button
        type="button"
        className="btn btn-icon"
        aria-label="Next step"
        title="Next step"
        data-testid="inspect-next-btn"
        disabled={!enabled || value >= latest}
        onClick={() => void loadStep(value + 1)}
      >
        <svg viewBox="0 0 20 20" aria-hidden="true">
          <path d="M8 5l5 5-5 5" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
        </svg>
      </button>
      <span className="slider-readout mono" data-testid="inspect-slider-readout">
        {enabled ? `${formatCount(value)} / ${formatCount(latest)}` : "— / —"}
      </span>
      <button
        type="button"
        className="btn btn-sm"
        data-testid="inspect-latest-btn"
        disabled={!enabled || value === latest}
        onClick={() => void loadStep(latest)}
      >
        Latest
      </button>
    </div>
  );
}
