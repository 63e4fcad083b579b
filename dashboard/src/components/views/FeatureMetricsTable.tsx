import { useStore } from "@nanostores/react";
import { memo, useMemo, useState, type CSSProperties } from "react";

import { $focusedFeature, toggleFeature } from "../../lib/feature-focus-store";
import { formatValue } from "../../lib/format";
import type { StepTensorKey as Key } from "../../lib/generated/tensor-keys";
import type { StepFrame } from "../../lib/tensor-frame";
import { useRovingList } from "../../lib/use-roving-list";
import { useBatchMeans } from "../../lib/views/step-tensors";
import {
  CLASS_KEY,
  classify,
  columnValues,
  DEAD_BELOW,
  discoverColumns,
  type FeatureClass,
  type MetricColumn,
  nextSort,
  type SortState,
  sortOrder,
  summarize,
  type Summary,
  WINNER_ABOVE,
} from "../../lib/views/columns";

/** Every per-feature quantity of the vocabulary (found once; the vocabulary is static). */
const COLUMNS = discoverColumns();
const BATCH_KEYS = COLUMNS.filter((c) => c.reduce === "batch_mean").map((c) => c.key);

type SortKey = Key | "feature";

interface TableData {
  columns: MetricColumn[];
  values: Float64Array[];
  summaries: Summary[];
  missing: MetricColumn[];
  /** Features (rows). */
  d: number;
  classes: (FeatureClass | null)[] | null;
}

/** The table of the step; `means` are the batch means of [B, D] keys the frame left out. */
function tableData(frame: StepFrame, means: Readonly<Record<string, Float32Array>>): TableData {
  const columns: MetricColumn[] = [];
  const values: Float64Array[] = [];
  const missing: MetricColumn[] = [];
  for (const column of COLUMNS) {
    const tensor = frame.tensors[column.key];
    const mean = column.reduce === "batch_mean" ? means[column.key] : undefined;
    if (!tensor && !mean) {
      missing.push(column);
      continue;
    }
    columns.push(column);
    values.push(tensor ? columnValues(tensor, column.reduce) : Float64Array.from(mean!));
  }
  const d = values.reduce((most, v) => Math.max(most, v.length), 0);
  const classIndex = columns.findIndex((c) => c.key === CLASS_KEY);
  const classes = classIndex < 0 ? null : Array.from(values[classIndex], (w) => classify(w));
  return { columns, values, summaries: values.map(summarize), missing, d, classes };
}

/** The header text of a column: its key, split after underscores so long names wrap. */
function HeaderName({ name }: { name: string }) {
  const parts = name.split("_");
  return (
    <>
      {parts.map((part, i) => (
        <span key={i}>
          {part}
          {i < parts.length - 1 && (
            <>
              _<wbr />
            </>
          )}
        </span>
      ))}
    </>
  );
}

/**
 * One row per feature, one column per [D] key and per [B, D] key averaged over the batch. Click a
 * header to sort (largest first), again to reverse; click a row to focus the feature. The body is
 * one tab stop: the arrow keys (Home/End, PageUp/PageDown) move between rows, Enter or Space
 * focuses the row's feature.
 */
function FeatureMetricsTable({ frame }: { frame: StepFrame }) {
  const focused = useStore($focusedFeature, { ssr: "initial" });
  const [sort, setSort] = useState<SortState<SortKey> | null>(null);
  const batch = useBatchMeans(frame, BATCH_KEYS);
  const data = useMemo(() => tableData(frame, batch.means), [frame, batch.means]);
  const { columns, values, summaries, d, classes } = data;

  const order = useMemo(() => {
    if (!sort || sort.key === "feature") {
      const rows = Array.from({ length: d }, (_, i) => i);
      return sort?.direction === "desc" ? rows.reverse() : rows;
    }
    const i = columns.findIndex((c) => c.key === sort.key);
    return i < 0 ? Array.from({ length: d }, (_, f) => f) : sortOrder(values[i], sort.direction);
  }, [sort, columns, values, d]);

  const { ref: rowsRef, tabbable, onKeyDown: onRowsKeyDown, onFocus: onRowsFocus } = useRovingList<HTMLDivElement>(order, focused, toggleFeature);

  const counts = useMemo(() => {
    const out = { dead: 0, contender: 0, winner: 0 };
    for (const c of classes ?? []) if (c) out[c]++;
    return out;
  }, [classes]);

  const ariaSort = (key: SortKey) =>
    sort?.key === key ? (sort.direction === "desc" ? "descending" : "ascending") : key === "feature" && !sort ? "ascending" : "none";
  // Nothing chosen shows features in index order, as if "#" had been clicked once.
  const onSort = (key: SortKey) =>
    setSort((s) => nextSort<SortKey>(s ?? { key: "feature", direction: "asc" }, key, key === "feature" ? "asc" : "desc"));

  if (d === 0) {
    return (
      <div className="view-missing wide" data-view="metrics-table" data-step={frame.step} data-testid="metrics-table-empty">
        <span>No per-feature metrics are captured in this condition ({frame.header.condition}).</span>
      </div>
    );
  }

  return (
    <div className="mt" data-view="metrics-table" data-step={frame.step}>
      <div className="mt-legend">
        {classes ? (
          <>
            <span className="mt-chip dead">
              <span className="mt-dot" /> dead <span className="mono">{counts.dead}</span>
            </span>
            <span className="mt-chip contender">
              <span className="mt-dot" /> contenders <span className="mono">{counts.contender}</span>
            </span>
            <span className="mt-chip winner">
              <span className="mt-dot" /> winners <span className="mono">{counts.winner}</span>
            </span>
            <span className="muted mt-rule">
              {CLASS_KEY} &lt; {DEAD_BELOW} dead · &gt; {WINNER_ABOVE} winner
            </span>
          </>
        ) : (
          <span className="muted">{CLASS_KEY} is not captured in this condition: no classes</span>
        )}
        {batch.loading && (
          <span className="muted mt-missing" data-testid="metrics-loading" role="status">
            loading the batch means…
          </span>
        )}
        {!batch.loading && data.missing.length > 0 && (
          <span className="muted mt-missing" title={data.missing.map((c) => c.key).join(", ")} data-testid="metrics-missing">
            {data.missing.length} column{data.missing.length === 1 ? "" : "s"} not captured in this condition
          </span>
        )}
      </div>
      {/* An ARIA table of divs, not a <table>: each row lays out on its own, so the rows scrolled
          out of the box skip layout (content-visibility) when a new step changes every number. */}
      <div className="mt-scroll">
        <div
          className="mt-table"
          role="grid"
          aria-readonly="true"
          aria-label="Per-feature metrics: arrow keys move between features, Enter focuses one"
          aria-rowcount={d + 4}
          data-testid="metrics-table"
          style={{ "--mt-columns": columns.length } as CSSProperties}
        >
          <div className="mt-head" role="rowgroup">
            <div className="mt-row" role="row">
              <div className="mt-cell mt-feature" role="columnheader" aria-sort={ariaSort("feature")}>
                <button type="button" className="mt-sort" data-testid="metrics-sort-feature" onClick={() => onSort("feature")}>
                  #<SortMark state={sort} columnKey="feature" />
                </button>
              </div>
              {columns.map((column) => (
                <div
                  key={column.key}
                  className="mt-cell"
                  role="columnheader"
                  aria-sort={ariaSort(column.key)}
                  title={column.meta.description}
                  data-key={column.key}
                >
                  <button type="button" className="mt-sort" data-testid={`metrics-sort-${column.key}`} onClick={() => onSort(column.key)}>
                    <span className="mt-name">
                      <HeaderName name={column.key} />
                    </span>
                    {column.reduce === "batch_mean" && <span className="mt-sub">batch mean</span>}
                    <SortMark state={sort} columnKey={column.key} />
                  </button>
                </div>
              ))}
            </div>
          </div>
          <div className="mt-body" role="rowgroup" ref={rowsRef} onKeyDown={onRowsKeyDown} onFocus={onRowsFocus}>
            {order.map((f) => (
              <MetricRow
                key={f}
                feature={f}
                columns={columns}
                values={values}
                cls={classes?.[f] ?? null}
                focused={f === focused}
                tabbable={f === tabbable}
              />
            ))}
          </div>
          <div className="mt-foot" role="rowgroup">
            {(["mean", "min", "max"] as const).map((stat) => (
              <div key={stat} className={`mt-row mt-summary ${stat}`} role="row" data-testid={`metrics-summary-${stat}`}>
                <div className="mt-cell mt-feature" role="rowheader">
                  {stat}
                </div>
                {summaries.map((s, i) => (
                  <div key={columns[i].key} className="mt-cell" role="cell" data-key={columns[i].key} data-value={s[stat]}>
                    {formatValue(s[stat])}
                  </div>
                ))}
              </div>
            ))}
          </div>
        </div>
      </div>
    </div>
  );
}

function SortMark({ state, columnKey }: { state: SortState<SortKey> | null; columnKey: SortKey }) {
  const active = state?.key === columnKey || (state === null && columnKey === "feature");
  const direction = state?.key === columnKey ? state.direction : "asc";
  return (
    <span className={active ? "mt-mark active" : "mt-mark"} aria-hidden="true">
      {active ? (direction === "desc" ? "▼" : "▲") : "↕"}
    </span>
  );
}

const MetricRow = memo(function MetricRow(props: {
  feature: number;
  columns: MetricColumn[];
  values: Float64Array[];
  cls: FeatureClass | null;
  focused: boolean;
  /** The row in the tab order (a roving tabindex: the others are reached by the arrow keys). */
  tabbable: boolean;
}) {
  const { feature, columns, values, cls } = props;
  const className = ["mt-row", cls ? `cls-${cls}` : "", props.focused ? "focused" : ""].join(" ").trim();
  return (
    <div
      className={className}
      role="row"
      data-feature={feature}
      data-class={cls ?? undefined}
      data-testid="metrics-row"
      aria-selected={props.focused}
      aria-label={`feature ${feature}${cls ? `, ${cls}` : ""}`}
      tabIndex={props.tabbable ? 0 : -1}
      onClick={() => toggleFeature(feature)}
    >
      <div className="mt-cell mt-feature" role="rowheader">
        <span className="mt-dot" />
        {feature}
      </div>
      {values.map((column, i) => {
        const v = column[feature];
        return (
          <div key={columns[i].key} role="cell" className={Number.isFinite(v) ? "mt-cell" : "mt-cell bad"} data-key={columns[i].key} data-value={v}>
            {formatValue(v)}
          </div>
        );
      })}
    </div>
  );
});

export default memo(FeatureMetricsTable);
