import { useStore } from "@nanostores/react";
import { useMemo } from "react";

import { branchColor, branchLinesStore } from "../lib/rewind-store";
import type { RewindTarget } from "../lib/rewind-types";
import type { ChartLine } from "./RunsLineChart";
import "../styles/rewind.css";

/**
 * The losses of the branches earlier rewinds left, as dashed lines inside a loss chart's SVG
 * (drawn with the chart's own scales; the pen lifts at NaN and outside the window shown).
 */
export default function BranchOverlay(props: {
  target: RewindTarget;
  x: (step: number) => number;
  y: (value: number) => number;
  lo: number;
  hi: number;
  clipPath?: string;
}) {
  const { lines } = useStore(branchLinesStore(props.target), { ssr: "initial" });
  return (
    <g className="branch-overlay" clipPath={props.clipPath}>
      {lines.map((line) => (
        <path
          key={line.id}
          className="branch-line"
          style={{ stroke: branchColor(line.id) }}
          d={pathOf(line.steps, line.losses, props)}
          data-testid={`${props.target}-branch-line`}
          data-branch={line.id}
          data-points={line.steps.length}
        >
          <title>{`branch ${line.id}: ${line.label} (forks at step ${line.forkStep})`}</title>
        </path>
      ))}
    </g>
  );
}

function pathOf(
  steps: Float64Array,
  losses: Float64Array,
  scale: { x: (step: number) => number; y: (value: number) => number; lo: number; hi: number },
): string {
  let d = "";
  let pen = false;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i];
    const value = losses[i];
    if (step < scale.lo || step > scale.hi || !Number.isFinite(value)) {
      pen = false;
      continue;
    }
    d += `${pen ? "L" : "M"}${scale.x(step).toFixed(1)},${scale.y(value).toFixed(1)}`;
    pen = true;
  }
  return d;
}

/** The branches' losses as dashed lines of a `RunsLineChart` (none when `shown` is false). */
export function useBranchLines(target: RewindTarget, shown: boolean): ChartLine[] {
  const { lines } = useStore(branchLinesStore(target), { ssr: "initial" });
  return useMemo(
    () =>
      shown
        ? lines.map((line) => ({
            id: `branch-${line.id}`,
            label: `branch ${line.id} (${line.label})`,
            color: branchColor(line.id),
            xs: line.steps,
            ys: line.losses,
            length: line.steps.length,
            dashed: true,
            testId: `${target}-branch-line`,
            data: { "data-branch": String(line.id) },
          }))
        : [],
    [lines, shown, target],
  );
}
