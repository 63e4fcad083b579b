import { useStore } from "@nanostores/react";
import { useMemo, useState } from "react";

import { formatCount, formatPercent, formatValue } from "../lib/format";
import { $modelLayers, $modelPicked, pick } from "../lib/model-store";
import { nextSort, type ParameterColumn, type SortOrder, sortParameters } from "../lib/model-table";

const COLUMNS: readonly { column: ParameterColumn; label: string; title: string }[] = [
  { column: "name", label: "parameter", title: "The parameter's name in the model" },
  { column: "numel", label: "elements", title: "Number of elements" },
  { column: "weight_norm", label: "‖w‖", title: "L2 norm of the weight" },
  { column: "grad_norm", label: "‖grad‖", title: "L2 norm of the gradient" },
  { column: "update_norm", label: "‖update‖", title: "L2 norm of the step's change of the weight" },
  { column: "update_ratio", label: "update / weight", title: "‖update‖ / ‖w‖: how far the step moved the weight" },
  { column: "weight_nonfinite", label: "NaN/Inf w", title: "Non-finite elements of the weight" },
  { column: "grad_nonfinite", label: "NaN/Inf grad", title: "Non-finite elements of the gradient" },
];

/**
 * Every parameter of the model at the newest step with statistics (sortable: largest first, then
 * smallest, then model order) and every leaf module's activations. A click on a parameter shows its
 * heatmap and histograms.
 */
export default function ModelLayerTable() {
  const layers = useStore($modelLayers, { ssr: "initial" });
  const picked = useStore($modelPicked, { ssr: "initial" });
  const [order, setOrder] = useState<SortOrder>({ column: null, direction: "desc" });
  const rows = useMemo(() => sortParameters(layers?.parameters ?? [], order), [layers, order]);
  if (!layers) return <p className="model-empty">No layer table yet.</p>;
  return (
    <div className="model-tables">
      <p className="model-table-step" data-testid="model-layers-step" data-step={layers.step ?? ""}>
        {layers.step === null ? "No step with statistics yet." : `Statistics of step ${formatCount(layers.step)}.`}
      </p>
      <div className="model-table-wrap">
        <table className="model-table" data-testid="model-layer-table" data-rows={rows.length}>
          <thead>
            <tr>
              {COLUMNS.map(({ column, label, title }) => (
                <th
                  key={column}
                  scope="col"
                  className={column === "name" ? undefined : "num"}
                  aria-sort={order.column === column ? (order.direction === "asc" ? "ascending" : "descending") : "none"}
                >
                  <button type="button" title={title} data-testid={`model-sort-${column}`} onClick={() => setOrder(nextSort(order, column))}>
                    {label}
                    {order.column === column ? (order.direction === "asc" ? " ▲" : " ▼") : ""}
                  </button>
                </th>
              ))}
              <th scope="col">shape</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr
                key={row.name}
                data-testid="model-layer-row"
                data-name={row.name}
                aria-selected={row.name === picked}
                className={(row.weight_nonfinite ?? 0) + (row.grad_nonfinite ?? 0) > 0 ? "model-row-bad" : undefined}
              >
                <td>
                  <button type="button" className="model-pick mono" onClick={() => pick(row.name)} title="Show its heatmap and histograms">
                    {row.name}
                  </button>
                </td>
                <td className="num mono">{formatCount(row.numel)}</td>
                <td className="num mono">{formatValue(row.weight_norm)}</td>
                <td className="num mono">{formatValue(row.grad_norm)}</td>
                <td className="num mono">{formatValue(row.update_norm)}</td>
                <td className="num mono" data-testid="model-update-ratio">
                  {formatValue(row.update_ratio)}
                </td>
                <td className="num mono">{row.weight_nonfinite === null ? "—" : formatCount(row.weight_nonfinite)}</td>
                <td className="num mono">{row.grad_nonfinite === null ? "—" : formatCount(row.grad_nonfinite)}</td>
                <td className="mono">[{row.shape.join(", ")}]</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="model-table-wrap">
        <table className="model-table" data-testid="model-module-table" data-rows={layers.modules.length}>
          <thead>
            <tr>
              <th scope="col">module</th>
              <th scope="col">kind</th>
              <th scope="col" className="num" title="Mean of the module's output">
                mean
              </th>
              <th scope="col" className="num" title="Standard deviation of the module's output">
                std
              </th>
              <th scope="col" className="num" title="Share of exact zeros in the output (dead units after a ReLU)">
                zeros
              </th>
              <th scope="col" className="num" title="Non-finite elements of the output">
                NaN/Inf
              </th>
            </tr>
          </thead>
          <tbody>
            {layers.modules.map((row) => (
              <tr key={row.name} data-testid="model-module-row" data-name={row.name} className={(row.nonfinite ?? 0) > 0 ? "model-row-bad" : undefined}>
                <td className="mono">{row.name}</td>
                <td>{row.kind}</td>
                <td className="num mono">{formatValue(row.mean)}</td>
                <td className="num mono">{formatValue(row.std)}</td>
                <td className="num mono">{row.zero_fraction === null ? "—" : formatPercent(row.zero_fraction)}</td>
                <td className="num mono">{row.nonfinite === null ? "—" : formatCount(row.nonfinite)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
