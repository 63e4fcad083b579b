import { useStore } from "@nanostores/react";
import { useMemo, useState } from "react";

import { type HistoryAxis, commonKeys, historySeries } from "../lib/history-lines";
import { $archiveList, $runHistories, $runStepEvents, $selectedRuns } from "../lib/history-store";
import { categorical } from "../lib/views/colour";
import { Segmented, SmoothingSlider } from "./ChartControls";
import RunsLineChart, { type ChartLine } from "./RunsLineChart";

/**
 * The picked runs' curves of one recorded scalar on one chart: against the step or the seconds
 * since each run's start, smoothed by an exponential moving average, on a linear or log axis.
 */
export default function HistoryChart() {
  const selected = useStore($selectedRuns);
  const histories = useStore($runHistories);
  const list = useStore($archiveList);
  const runEvents = useStore($runStepEvents);
  const [key, setKey] = useState("loss");
  const [axis, setAxis] = useState<HistoryAxis>("step");
  const [smoothing, setSmoothing] = useState(0);
  const [log, setLog] = useState(false);

  const loaded = useMemo(() => selected.filter((id) => histories[id]).map((id) => ({ id, history: histories[id] })), [selected, histories]);
  const keys = useMemo(() => commonKeys(loaded.map((l) => l.history)), [loaded]);
  const shownKey = keys.includes(key) ? key : (keys[0] ?? key);
  const lines = useMemo<ChartLine[]>(() => {
    const runs = new Map((list?.runs ?? []).map((run) => [run.id, run]));
    return loaded.flatMap(({ id, history }) => {
      const series = historySeries(history, shownKey, axis, smoothing);
      if (!series) return [];
      const run = runs.get(id);
      return [
        {
          id,
          label: run ? `${run.recipe} ${run.condition} · ${id}` : id,
          color: categorical(selected.indexOf(id)),
          xs: series.xs,
          ys: series.ys,
          length: series.length,
          testId: "history-line",
          data: { "data-run": id },
        },
      ];
    });
  }, [loaded, shownKey, axis, smoothing, list, selected]);

  // Live edits and breakpoints sit at a step: markers on the step axis only.
  const events = useMemo(
    () => (axis === "step" ? loaded.flatMap(({ id }) => runEvents[id] ?? []) : undefined),
    [axis, loaded, runEvents],
  );

  return (
    <section className="card" aria-labelledby="history-chart-title">
      <header className="card-head">
        <h2 id="history-chart-title">Compare</h2>
        <div className="runs-head-tools">
          <label className="runs-smoothing">
            <span className="muted">scalar</span>
            <select value={shownKey} data-testid="history-key" aria-label="Scalar to draw" onChange={(event) => setKey(event.target.value)} disabled={!keys.length}>
              {(keys.length ? keys : [key]).map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </label>
          <SmoothingSlider
            value={smoothing}
            onChange={setSmoothing}
            testId="history-smoothing"
            title="Exponential moving average of every curve"
          />
          <Segmented
            label="X axis"
            options={[
              { value: "step", label: "step" },
              { value: "wall", label: "time" },
            ]}
            value={axis}
            onChange={setAxis}
            testIdPrefix="history-axis"
          />
          <Segmented
            label="Y axis"
            options={[
              { value: "linear", label: "linear" },
              { value: "log", label: "log" },
            ]}
            value={log ? "log" : "linear"}
            onChange={(kind) => setLog(kind === "log")}
            testIdPrefix="history-scale"
          />
        </div>
      </header>
      <RunsLineChart
        lines={lines}
        height={320}
        testId="history-chart"
        ariaLabel={`${shownKey} of the picked runs by ${axis === "step" ? "step" : "seconds since their start"}`}
        empty={<p className="muted">Tick runs in the table to draw their curves here.</p>}
        log={log}
        xTitle={axis === "step" ? "step" : "seconds since the run's start"}
        yTitle={shownKey}
        data={{ "data-lines": String(lines.length), "data-axis": axis }}
        events={events}
        resetKey={axis}
      />
    </section>
  );
}
