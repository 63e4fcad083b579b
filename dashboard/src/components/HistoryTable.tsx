import { useStore } from "@nanostores/react";

import { formatCount, formatValue } from "../lib/format";
import { formatOptions, formatRunDuration } from "../lib/history-lines";
import { $archiveList, $historyBusy, $selectedRuns, deleteRun, toggleRun } from "../lib/history-store";
import type { ArchivedRun } from "../lib/history-types";
import { categorical } from "../lib/views/colour";

/** The start of a run, as the local date and time. */
function startedText(run: ArchivedRun): string {
  return new Date(run.started_at * 1000).toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
}

/**
 * The archived runs, newest first: a checkbox picks a run for the chart (its swatch shows the
 * line's colour), a button deletes it after a confirmation.
 */
export default function HistoryTable() {
  const list = useStore($archiveList);
  const selected = useStore($selectedRuns);
  const busy = useStore($historyBusy);
  if (!list) return <p className="muted">Loading the runs…</p>;
  if (!list.runs.length) {
    return (
      <p className="muted" data-testid="history-empty">
        No runs recorded here yet: every run started from this dashboard, and every <code>acc run</code>, is kept in{" "}
        <code>{list.runs_dir}</code>.
      </p>
    );
  }
  return (
    <div className="history-table-wrap">
      <table className="history-table" data-testid="history-table">
        <thead>
          <tr>
            <th scope="col">
              <span className="history-hidden">On the chart</span>
            </th>
            <th scope="col">Recipe</th>
            <th scope="col">Condition</th>
            <th scope="col">Options</th>
            <th scope="col">Start</th>
            <th scope="col">Duration</th>
            <th scope="col" className="num">
              Steps
            </th>
            <th scope="col" className="num">
              Final loss
            </th>
            <th scope="col" className="num">
              Best loss
            </th>
            <th scope="col">Status</th>
            <th scope="col">
              <span className="history-hidden">Delete</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {list.runs.map((run) => {
            const at = selected.indexOf(run.id);
            return (
              <tr key={run.id} data-testid="history-row" data-run={run.id} data-status={run.status} aria-selected={at >= 0}>
                <td>
                  <label className="history-pick">
                    <input
                      type="checkbox"
                      checked={at >= 0}
                      data-testid="history-pick"
                      aria-label={`Show run ${run.id} on the chart`}
                      onChange={(event) => void toggleRun(run.id, event.target.checked)}
                    />
                    <span className="history-swatch" style={{ background: at >= 0 ? categorical(at) : "transparent" }} />
                  </label>
                </td>
                <td>
                  {run.recipe}
                  <span className="muted history-kind"> · {run.kind}</span>
                </td>
                <td>{run.condition || "–"}</td>
                <td className="history-options mono" title={formatOptions(run.options)}>
                  {formatOptions(run.options)}
                </td>
                <td>{startedText(run)}</td>
                <td className="mono">{formatRunDuration(run.duration)}</td>
                <td className="num mono">{formatCount(run.steps)}</td>
                <td className="num mono">{formatValue(run.final_loss)}</td>
                <td className="num mono">{formatValue(run.best_loss)}</td>
                <td>
                  <span className={`history-status status-${run.status}`} title={run.error ?? undefined} data-testid="history-status">
                    {run.status}
                  </span>
                </td>
                <td>
                  <button
                    type="button"
                    className="btn btn-sm btn-danger"
                    disabled={busy !== null || run.status === "running"}
                    title={run.status === "running" ? "A run being recorded cannot be deleted" : "Delete this run and its kept tensors"}
                    data-testid="history-delete"
                    onClick={() => {
                      if (window.confirm(`Delete run ${run.id} (${run.recipe} ${run.condition}, ${formatCount(run.steps)} steps)?`)) void deleteRun(run.id);
                    }}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
