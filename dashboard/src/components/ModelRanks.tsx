import { useStore } from "@nanostores/react";
import { useMemo } from "react";

import { formatCount, formatValue } from "../lib/format";
import { $modelState } from "../lib/model-store";
import { lossApart, sameBatchAs } from "../lib/rank-checks";
import { $pickedRank, $rankBatch, $rankHistory, pickRank } from "../lib/rank-store";
import type { RankHistory } from "../lib/rank-types";
import { categorical } from "../lib/views/colour";
import RunsLineChart, { type ChartLine } from "./RunsLineChart";

/** One line per rank of one per-rank series, each rank in its own colour. */
function rankLines(history: RankHistory | null, field: "loss" | "grad_norm"): ChartLine[] {
  if (!history) return [];
  const xs = Float64Array.from(history.steps);
  return history[field].map((values, rank) => ({
    id: `${field}-${rank}`,
    label: `rank ${rank}`,
    color: categorical(rank),
    xs,
    ys: Float64Array.from(values, (v) => (v === null ? NaN : v)),
    length: xs.length,
    testId: `model-rank-${field}-${rank}`,
  }));
}

/**
 * The ranks of a distributed loop (DDP): a rank picker, every rank's newest report side by side
 * (step, held or running, loss, gradient norm before the all-reduce, batch fingerprint) and the
 * loss and gradient norm by rank over steps, so a rank that diverges or trains on other data
 * shows. Hidden for a loop in one process.
 */
export default function ModelRanks() {
  const state = useStore($modelState, { ssr: "initial" });
  const history = useStore($rankHistory, { ssr: "initial" });
  const picked = useStore($pickedRank, { ssr: "initial" });
  const batch = useStore($rankBatch, { ssr: "initial" });
  const loss = useMemo(() => rankLines(history, "loss"), [history]);
  const gradNorm = useMemo(() => rankLines(history, "grad_norm"), [history]);
  const ranks = state?.ranks;
  const twins = useMemo(() => sameBatchAs(ranks ?? []), [ranks]);
  const apart = useMemo(() => lossApart(ranks ?? []), [ranks]);
  if (!ranks) return null;
  const pickedRow = ranks.find((row) => row.rank === picked) ?? ranks[0];
  return (
    <section className="card" aria-labelledby="model-ranks-title" data-testid="model-ranks" data-world={ranks.length}>
      <header className="card-head">
        <h2 id="model-ranks-title">Ranks</h2>
        <label className="model-rank-picker">
          rank{" "}
          <select
            data-testid="model-rank-picker"
            value={pickedRow.rank}
            onChange={(event) => pickRank(Number(event.target.value))}
          >
            {ranks.map((row) => (
              <option key={row.rank} value={row.rank}>
                {row.rank}
              </option>
            ))}
          </select>
        </label>
      </header>
      <div className="model-card-body">
        <p className="model-rank-detail" data-testid="model-rank-detail" data-rank={pickedRow.rank}>
          Rank <strong className="mono">{pickedRow.rank}</strong> · step{" "}
          <span className="mono">{pickedRow.step}</span> · {pickedRow.paused ? "paused" : "running"} · loss{" "}
          <span className="mono" data-testid="model-rank-loss">
            {formatValue(pickedRow.loss)}
          </span>{" "}
          · ‖grad‖ before all-reduce <span className="mono">{formatValue(pickedRow.grad_norm)}</span>
        </p>
        {batch?.image && batch.rank === pickedRow.rank && (
          <figure className="model-figure model-rank-batch">
            <img
              src={`data:image/png;base64,${batch.image}`}
              alt={`Batch of rank ${batch.rank} at step ${batch.step}`}
              data-testid="model-rank-batch"
              data-rank={batch.rank}
              data-step={batch.step}
            />
            <figcaption>
              rank {batch.rank}'s batch at step <span className="mono">{batch.step}</span> · [{batch.shape.join(", ")}] · mean{" "}
              <span className="mono">{formatValue(batch.mean)}</span> · std <span className="mono">{formatValue(batch.std)}</span>
            </figcaption>
          </figure>
        )}
        <div className="model-table-wrap">
          <table className="model-table" data-testid="model-rank-table" data-rows={ranks.length}>
            <thead>
              <tr>
                <th scope="col">rank</th>
                <th scope="col" className="num">step</th>
                <th scope="col">state</th>
                <th scope="col" className="num" title="The loss this rank gave to dbg.step">
                  loss
                </th>
                <th scope="col" className="num" title="L2 norm of this rank's gradients before DDP's all-reduce">
                  ‖grad‖ local
                </th>
                <th scope="col" className="num" title="Mean of the batch this rank trained on (dbg.record_batch)">
                  batch mean
                </th>
                <th scope="col" className="num" title="Standard deviation of that batch">
                  batch std
                </th>
                <th scope="col" className="num" title="Samples in that batch">
                  batch size
                </th>
              </tr>
            </thead>
            <tbody>
              {ranks.map((row, index) => (
                <tr
                  key={row.rank}
                  data-testid="model-rank-row"
                  data-rank={row.rank}
                  data-step={row.step}
                  aria-selected={row.rank === pickedRow.rank}
                  className={apart[index] ? "model-row-bad" : undefined}
                  title={apart[index] ? "This rank's loss stands apart from the others'" : undefined}
                >
                  <td>
                    <button type="button" className="model-pick mono" onClick={() => pickRank(row.rank)} title="Pick this rank">
                      {row.rank}
                    </button>
                  </td>
                  <td className="num mono">{row.step}</td>
                  <td>
                    <span data-testid="model-rank-state">{row.paused ? "paused" : "running"}</span>
                    {twins[index] !== null && (
                      <span className="model-rank-warn" data-testid="model-rank-same-batch" title="Both ranks trained on the same data: is a DistributedSampler missing?">
                        {" "}
                        · same batch as rank {twins[index]}
                      </span>
                    )}
                  </td>
                  <td className="num mono" data-testid="model-rank-row-loss">
                    {formatValue(row.loss)}
                  </td>
                  <td className="num mono">{formatValue(row.grad_norm)}</td>
                  <td className="num mono">{formatValue(row.batch_mean)}</td>
                  <td className="num mono">{formatValue(row.batch_std)}</td>
                  <td className="num mono">{row.batch_size === null ? "—" : formatCount(row.batch_size)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <ul className="runs-legend" aria-label="Ranks" data-testid="model-ranks-legend">
          {ranks.map((row) => (
            <li key={row.rank}>
              <span className="legend-swatch" style={{ borderColor: categorical(row.rank) }} />
              <span className="mono">rank {row.rank}</span>
            </li>
          ))}
        </ul>
        <div className="model-rank-charts">
          <div>
            <h3>loss by rank</h3>
            <RunsLineChart lines={loss} height={180} testId="model-rank-loss-chart" ariaLabel="Loss by rank over steps" empty="No steps yet." xTitle="step" />
          </div>
          <div>
            <h3>‖grad‖ before all-reduce by rank</h3>
            <RunsLineChart lines={gradNorm} height={180} testId="model-rank-grad-chart" ariaLabel="Gradient norm by rank over steps" empty="No steps yet." xTitle="step" />
          </div>
        </div>
      </div>
    </section>
  );
}
