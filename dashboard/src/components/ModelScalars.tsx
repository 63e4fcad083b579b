import { useStore } from "@nanostores/react";
import { useMemo } from "react";

import { $modelScalars, $modelState } from "../lib/model-store";
import { categorical } from "../lib/views/colour";
import RunsLineChart, { type ChartLine } from "./RunsLineChart";

const PREFIX = "scalar/";

/** Every scalar the loop passes to `dbg.step`, over its steps, on one zoomable chart. */
export default function ModelScalars() {
  const scalars = useStore($modelScalars, { ssr: "initial" });
  const state = useStore($modelState, { ssr: "initial" });
  const lines = useMemo<ChartLine[]>(() => {
    if (!scalars) return [];
    const xs = Float64Array.from(scalars.steps);
    return Object.entries(scalars.columns).map(([name, values], index) => ({
      id: name,
      label: name.startsWith(PREFIX) ? name.slice(PREFIX.length) : name,
      color: categorical(index),
      xs,
      ys: Float64Array.from(values, (v) => (v === null ? NaN : v)),
      length: xs.length,
      testId: `model-scalar-${name.slice(PREFIX.length)}`,
    }));
  }, [scalars]);
  return (
    <>
      {lines.length > 0 && (
        <ul className="runs-legend" aria-label="Lines" data-testid="model-scalars-legend">
          {lines.map((line) => (
            <li key={line.id}>
              <span className="legend-swatch" style={{ borderColor: line.color }} />
              <span className="mono">{line.label}</span>
            </li>
          ))}
        </ul>
      )}
      <RunsLineChart
      lines={lines}
      height={220}
      testId="model-scalars"
      ariaLabel="Scalars over steps"
      empty="No steps yet: the scalars given to dbg.step appear here."
      xTitle="step"
      data={{ "data-lines": String(lines.length) }}
      events={state?.events}
      />
    </>
  );
}
