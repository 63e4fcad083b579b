import { useStore } from "@nanostores/react";
import { useMemo } from "react";

import { $codebookConfig, $codebookEvents, $codebookRunId } from "../lib/codebook-store";
import { formatCount, formatValue } from "../lib/format";

/** Rows shown (newest first); the count above says how many there are in all. */
const MAX_ROWS = 200;

/** The log of dead-code replacements: step, level, code, its count when replaced, and the vector it got. */
export default function CodebookEvents() {
  const runId = useStore($codebookRunId, { ssr: () => null });
  const events = useStore($codebookEvents, { ssr: "initial" });
  const config = useStore($codebookConfig, { ssr: "initial" });
  const own = events && runId && events.runId === runId ? events : null;
  const revive = own?.revive ?? (config && runId && config.runId === runId ? config.config.revive : null);
  const rows = useMemo(() => (own ? own.events.slice(-MAX_ROWS).reverse() : []), [own]);
  const perLevel = useMemo(() => {
    const counts = new Map<number, number>();
    for (const e of own?.events ?? []) counts.set(e.level, (counts.get(e.level) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => a[0] - b[0]);
  }, [own]);

  return (
    <section className="card cb-events" aria-labelledby="cb-events-title" data-testid="codebook-events">
      <header className="card-head">
        <h2 id="cb-events-title">
          Dead-code replacements
          {own && own.events.length > 0 && <span className="card-head-step">{formatCount(own.events.length)}</span>}
        </h2>
        {revive !== null && <span className={revive ? "tag tag-ok" : "tag"}>revival {revive ? "on" : "off"}</span>}
      </header>
      {!runId ? (
        <div className="cb-empty small">
          <p className="empty-text">Turn on dead-code revival to re-seed codes that fall out of use; every replacement is listed here and marked on the loss timeline.</p>
        </div>
      ) : revive === false ? (
        <div className="cb-empty small">
          <p className="empty-title">Revival is off for this run</p>
          <p className="empty-text">Dead codes stay dead. Turn revival on before starting to re-seed them from batch vectors.</p>
        </div>
      ) : !own || own.events.length === 0 ? (
        <div className="cb-empty small">
          <p className="empty-title">No replacements yet</p>
          <p className="empty-text">A code is replaced when its EMA count falls under 1% of a uniform share.</p>
        </div>
      ) : (
        <>
          <p className="cb-events-summary">
            {perLevel.map(([level, n]) => (
              <span key={level}>
                <span className="cb-level-chip">L{level}</span> {formatCount(n)}
              </span>
            ))}
          </p>
          <div className="cb-events-scroll">
            <table className="cb-table compact" data-testid="codebook-events-table">
              <thead>
                <tr>
                  <th scope="col" className="num">
                    Step
                  </th>
                  <th scope="col">Lvl</th>
                  <th scope="col" className="num">
                    Code
                  </th>
                  <th scope="col" className="num" title="The code's EMA count when it was replaced">
                    Old count
                  </th>
                  <th scope="col" className="num" title="The batch vector the code was re-seeded from">
                    From
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((e) => (
                  <tr key={`${e.step}-${e.level}-${e.code}`} data-testid="codebook-event-row">
                    <td className="num mono">{formatCount(e.step)}</td>
                    <td>L{e.level}</td>
                    <td className="num mono">{e.code}</td>
                    <td className="num mono">{formatValue(e.old_count)}</td>
                    <td className="num mono muted" title={e.source}>
                      {e.source.replace(/^batch vector /, "#")}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {own.events.length > MAX_ROWS && <p className="cb-events-more">newest {MAX_ROWS} of {formatCount(own.events.length)} shown</p>}
        </>
      )}
    </section>
  );
}
