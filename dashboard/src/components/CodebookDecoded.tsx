import { useStore } from "@nanostores/react";
import { type CSSProperties, useMemo, useState } from "react";

import { $codebookDecoded, $codebookHealth, $codebookRunId } from "../lib/codebook-store";
import type { PngGrid } from "../lib/codebook-types";
import { gridSize, tileAt, tileCentre } from "../lib/codebook/grid";
import { deadMask } from "../lib/codebook/histogram";
import { formatCount } from "../lib/format";

/** What each level-1 code decodes to on its own, and the most used level-1 codes plus level-2 codes. */
export default function CodebookDecoded() {
  const runId = useStore($codebookRunId, { ssr: () => null });
  const decoded = useStore($codebookDecoded, { ssr: "initial" });
  const health = useStore($codebookHealth, { ssr: "initial" });
  const own = runId && decoded && decoded.run_id === runId ? decoded : null;
  const ownHealth = runId && health && health.run_id === runId ? health : null;
  const level1Counts = ownHealth?.levels[0]?.counts ?? null;
  const level1Dead = useMemo(() => (level1Counts && ownHealth ? deadMask(level1Counts, ownHealth.dead_fraction) : null), [level1Counts, ownHealth]);

  return (
    <section className="card cb-decoded" aria-labelledby="cb-decoded-title" data-testid="codebook-decoded">
      <header className="card-head">
        <h2 id="cb-decoded-title">
          Decoded codes
          {own && <span className="card-head-step">step {formatCount(own.step)}</span>}
        </h2>
        <span className="cb-head-note">each code repeated over the 7×7 latent grid and decoded; refreshed every 50 steps</span>
      </header>
      {!own ? (
        <div className="cb-empty">
          <p className="empty-title">{runId ? "Nothing decoded yet" : "No VQ-VAE run yet"}</p>
          <p className="empty-text">Codes are decoded at step 1 and every 50 steps.</p>
        </div>
      ) : (
        <div className="cb-decoded-grid">
          <figure className="cb-figure">
            <figcaption className="cb-figure-head">
              <h3>Every level-1 code</h3>
              <span className="cb-figure-sub">
                {own.level1.count} codes, {own.level1.columns} per row, in code order{level1Dead ? " · dead codes dimmed" : ""}
              </span>
            </figcaption>
            <ImageGrid
              grid={own.level1}
              scale={1.25}
              testId="codebook-decoded-level1"
              dim={level1Dead}
              label={(i) => {
                const code = own.level1.codes[i] ?? i;
                const uses = level1Counts?.[code];
                return `code ${code}${uses !== undefined ? ` · ${formatCount(uses)} uses in the window` : ""}${level1Dead?.[code] ? " · dead" : ""}`;
              }}
            />
          </figure>
          {own.combinations ? (
            <figure className="cb-figure">
              <figcaption className="cb-figure-head">
                <h3>Level 1 + level 2</h3>
                <span className="cb-figure-sub">
                  rows: the {own.combinations.level1_codes.length} most used level-1 codes · columns: the{" "}
                  {own.combinations.level2_codes.length} most used level-2 codes · cell: c¹ + c² decoded
                </span>
              </figcaption>
              <CombinationGrid grid={own.combinations} />
              <p className="cb-grid-note">
                The most used codes usually stand for the empty background, so their sums decode dark; hover a cell for its codes.
              </p>
            </figure>
          ) : (
            <div className="cb-empty small">A single level has no combinations.</div>
          )}
        </div>
      )}
    </section>
  );
}

/** A PNG grid drawn with crisp pixels at `scale`, with a hover label per tile and dimmed tiles. */
function ImageGrid(props: { grid: PngGrid; scale: number; testId: string; label: (index: number) => string; dim?: boolean[] | null }) {
  const { grid } = props;
  const size = gridSize(grid.count, grid.columns);
  const [hover, setHover] = useState<number | null>(null);
  const cols = Math.min(grid.columns, grid.count);
  return (
    <div className="cb-image-grid" style={{ width: size.width * props.scale }} data-testid={props.testId} data-count={grid.count}>
      <img
        src={`data:image/png;base64,${grid.data}`}
        width={size.width * props.scale}
        height={size.height * props.scale}
        alt={`${grid.count} decoded images`}
        draggable={false}
        onPointerMove={(e) => {
          const box = e.currentTarget.getBoundingClientRect();
          const tile = tileAt(((e.clientX - box.left) / box.width) * size.width, ((e.clientY - box.top) / box.height) * size.height, grid.count, grid.columns);
          setHover(tile ? tile.index : null);
        }}
        onPointerLeave={() => setHover(null)}
      />
      {props.dim?.map((dead, i) =>
        dead && i < grid.count ? <Tile key={i} index={i} count={grid.count} columns={cols} className="cb-tile-dim" /> : null,
      )}
      {hover !== null && (
        <>
          <Tile index={hover} count={grid.count} columns={cols} className="cb-tile-hover" />
          <span className="cb-grid-label" style={labelPosition(hover, grid.count, cols)}>
            {props.label(hover)}
          </span>
        </>
      )}
    </div>
  );
}

/** Just above the tile, centred on it. */
function labelPosition(index: number, count: number, columns: number): CSSProperties {
  const size = gridSize(count, columns);
  const centre = tileCentre(index, count, columns);
  return { left: `${centre.x * 100}%`, top: `${centre.y * 100 - (14 / size.height) * 100}%` };
}

/** An absolutely placed box over tile `index` (percent units, so it follows the image's scale). */
function Tile(props: { index: number; count: number; columns: number; className: string }) {
  const size = gridSize(props.count, props.columns);
  const centre = tileCentre(props.index, props.count, props.columns);
  const w = (28 / size.width) * 100;
  const h = (28 / size.height) * 100;
  return (
    <span
      className={props.className}
      style={{ left: `${centre.x * 100 - w / 2}%`, top: `${centre.y * 100 - h / 2}%`, width: `${w}%`, height: `${h}%` }}
    />
  );
}

function CombinationGrid({ grid }: { grid: PngGrid & { level1_codes: number[]; level2_codes: number[] } }) {
  const scale = 1.6;
  const size = gridSize(grid.count, grid.columns);
  return (
    <div className="cb-combos" data-testid="codebook-decoded-combinations">
      <span className="cb-combos-corner" title="rows: level-1 code · columns: level-2 code">
        L1↓
        <br />
        L2→
      </span>
      <div className="cb-combos-cols" style={{ width: size.width * scale }}>
        {grid.level2_codes.map((code, i) => (
          <span key={i} style={{ left: `${tileCentre(i, grid.count, grid.columns).x * 100}%` }}>
            {code}
          </span>
        ))}
      </div>
      <div className="cb-combos-rows" style={{ height: size.height * scale }}>
        {grid.level1_codes.map((code, i) => (
          <span key={i} style={{ top: `${tileCentre(i * grid.columns, grid.count, grid.columns).y * 100}%` }}>
            {code}
          </span>
        ))}
      </div>
      <ImageGrid
        grid={grid}
        scale={scale}
        testId="codebook-decoded-combinations-grid"
        label={(i) => `level-1 code ${grid.level1_codes[Math.floor(i / grid.columns)]} + level-2 code ${grid.level2_codes[i % grid.columns]}`}
      />
    </div>
  );
}
