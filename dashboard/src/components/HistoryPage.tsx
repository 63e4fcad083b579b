import { useStore } from "@nanostores/react";
import { useEffect } from "react";

import { formatBytes } from "../lib/format";
import {
  $archiveList,
  $historyBusy,
  $historyError,
  $historyFilters,
  dismissHistoryError,
  loadRuns,
  setFilter,
} from "../lib/history-store";
import { ARCHIVED_STATUSES, type ArchivedStatus } from "../lib/history-types";
import BusyNote from "./BusyNote";
import ErrorBanner from "./ErrorBanner";
import HistoryChart from "./HistoryChart";
import HistoryKeptStep from "./HistoryKeptStep";
import HistoryTable from "./HistoryTable";

/** The History page: every recorded run, filters, the archive's size, and the comparison chart. */
export default function HistoryPage() {
  const list = useStore($archiveList);
  const filters = useStore($historyFilters);
  const error = useStore($historyError);
  const busy = useStore($historyBusy);
  useEffect(() => {
    void loadRuns();
  }, []);
  const recipes = [...new Set((list?.runs ?? []).map((run) => run.recipe).concat(filters.recipe ? [filters.recipe] : []))].sort();

  return (
    <div className="history-page">
      <ErrorBanner error={error} onDismiss={dismissHistoryError} testId="history-error" />
      <section className="card">
        <header className="card-head">
          <h2>
            Runs
            <span className="card-head-step" data-testid="history-count">
              {list ? `${list.total} run${list.total === 1 ? "" : "s"}` : ""}
            </span>
          </h2>
          <div className="runs-head-tools">
            <label className="runs-smoothing">
              <span className="muted">recipe</span>
              <select value={filters.recipe} data-testid="history-filter-recipe" onChange={(event) => setFilter("recipe", event.target.value)}>
                <option value="">any</option>
                {recipes.map((name) => (
                  <option key={name} value={name}>
                    {name}
                  </option>
                ))}
              </select>
            </label>
            <label className="runs-smoothing">
              <span className="muted">status</span>
              <select
                value={filters.status}
                data-testid="history-filter-status"
                onChange={(event) => setFilter("status", event.target.value as ArchivedStatus | "")}
              >
                <option value="">any</option>
                {ARCHIVED_STATUSES.map((status) => (
                  <option key={status} value={status}>
                    {status}
                  </option>
                ))}
              </select>
            </label>
            <button type="button" className="btn btn-sm" data-testid="history-refresh" onClick={() => void loadRuns()}>
              Refresh
            </button>
            <BusyNote busy={busy} text={() => "Deleting"} testId="history-busy" />
          </div>
        </header>
        <HistoryTable />
        {list && (
          <p className="muted history-note" data-testid="history-size" data-bytes={list.archive_bytes}>
            The archive takes {formatBytes(list.archive_bytes)}
            {list.max_bytes !== null ? ` of at most ${formatBytes(list.max_bytes)} (the oldest kept tensors go first)` : ""} in{" "}
            <code>{list.runs_dir}</code>.
          </p>
        )}
      </section>
      <HistoryChart />
      <HistoryKeptStep />
    </div>
  );
}
