import { useStore } from "@nanostores/react";
import { useState } from "react";

import { formatCount, formatValue } from "../lib/format";
import { $inspectBusy, $inspectSession } from "../lib/inspect-store";
import { $run, $runBusy, $runStep } from "../lib/run-store";
import {
  $branchStep,
  branchColor,
  branchStepsPath,
  closeBranchStep,
  rewindInspector,
  rewindRun,
  showBranchStep,
} from "../lib/rewind-store";
import type { BranchSummary, RewindTarget } from "../lib/rewind-types";
import StepViews from "./views/StepViews";
import "../styles/rewind.css";

/** How far the quick button goes back. */
const QUICK_BACK = 5;

/**
 * Rewind to a held restore point (the inspector session at any time, a free run while paused),
 * and the branches earlier rewinds left: each with what started it, its steps, and the steps it
 * still holds in full, which open here read-only.
 */
export default function RewindPanel(props: { target: RewindTarget }) {
  return props.target === "inspect" ? <InspectRewind /> : <RunRewind />;
}

/** What the card shows of the session or run it rewinds. */
interface Loop {
  step: number;
  rewindable?: number[];
  branches?: BranchSummary[];
  restore_bytes?: number;
  max_restore_bytes?: number;
}

function InspectRewind() {
  const session = useStore($inspectSession, { ssr: () => null });
  const busy = useStore($inspectBusy, { ssr: "initial" });
  if (!session) return null;
  return <RewindCard target="inspect" loop={session} busy={busy !== null} held known />;
}

function RunRewind() {
  const run = useStore($run, { ssr: () => null });
  const step = useStore($runStep, { ssr: () => 0 });
  const busy = useStore($runBusy, { ssr: "initial" });
  if (!run) return null;
  // A free run goes back only while it waits at a step boundary. Its state is not re-sent at every
  // step (the stream sends the steps), so the held points may be newer than `rewindable` says:
  // the trainer decides, and says which steps it holds when one is not.
  return <RewindCard target="run" loop={{ ...run, step }} busy={busy !== null} held={run.status === "paused" && run.blocked} known={false} />;
}

/**
 * `known`: the loop's `rewindable` is current, so a step outside it is not offered (the inspector
 * reads its state after every call).
 */
function RewindCard(props: { target: RewindTarget; loop: Loop; busy: boolean; held: boolean; known: boolean }) {
  const { target, loop, busy, held, known } = props;
  const browsing = useStore($branchStep, { ssr: "initial" });
  const [typed, setTyped] = useState("");
  const [open, setOpen] = useState<number | null>(null);
  const [tensors, setTensors] = useState(false);
  const rewindable = loop.rewindable ?? [];
  const branches = loop.branches ?? [];
  const step = loop.step;
  const quick = Math.max(0, step - QUICK_BACK);
  const typedStep = typed.trim() === "" ? null : Number(typed);
  const go = (to: number) => void (target === "inspect" ? rewindInspector(to) : rewindRun(to));
  const canGo = (to: number | null): to is number =>
    to !== null && Number.isInteger(to) && held && !busy && to >= 0 && to < step && (!known || rewindable.includes(to));

  return (
    <section className="card rewind-card" aria-labelledby={`${target}-rewind-title`} data-testid={`${target}-rewind`}>
      <header className="card-head">
        <h2 id={`${target}-rewind-title`}>
          Rewind
          <span className="card-head-step" data-testid={`${target}-rewindable`}>
            {rewindable.length
              ? `back to steps ${formatCount(rewindable[0])}–${formatCount(rewindable[rewindable.length - 1])}`
              : "no restore points yet"}
          </span>
        </h2>
      </header>
      <div className="rewind-body">
        <div className="rewind-row">
          <button
            type="button"
            className="btn"
            disabled={!canGo(quick)}
            onClick={() => go(quick)}
            data-testid={`${target}-rewind-back`}
            title={`Go back to the end of step ${quick}; stepping on replays the same steps exactly (CPU)`}
          >
            Back {Math.min(QUICK_BACK, step)} steps
          </button>
          <label className="rewind-row">
            to step
            <input
              className="rewind-step mono"
              type="number"
              min={rewindable[0] ?? 0}
              max={Math.max(0, step - 1)}
              value={typed}
              placeholder={String(quick)}
              onChange={(event) => setTyped(event.target.value)}
              data-testid={`${target}-rewind-step`}
            />
          </label>
          <button
            type="button"
            className="btn btn-primary"
            disabled={!canGo(typedStep)}
            onClick={() => {
              if (canGo(typedStep)) go(typedStep);
              setTyped("");
            }}
            data-testid={`${target}-rewind-go`}
          >
            Rewind
          </button>
          {!held && <span className="rewind-note">Pause the run to rewind it.</span>}
          {loop.restore_bytes !== undefined && loop.max_restore_bytes !== undefined && (
            <span className="rewind-note">
              restore points: {(loop.restore_bytes / 2 ** 20).toFixed(1)} of {(loop.max_restore_bytes / 2 ** 20).toFixed(0)} MiB
            </span>
          )}
        </div>
        {branches.length > 0 && (
          <ul className="rewind-branches" data-testid={`${target}-branches`}>
            {branches.map((branch) => (
              <BranchRow
                key={branch.id}
                target={target}
                branch={branch}
                open={open === branch.id}
                onToggle={() => setOpen(open === branch.id ? null : branch.id)}
                shownStep={browsing?.target === target && browsing.branch.id === branch.id ? browsing.step : null}
              />
            ))}
          </ul>
        )}
        {browsing?.target === target && (
          <div className="rewind-branch-step" data-testid={`${target}-branch-step`} data-branch={browsing.branch.id} data-step={browsing.step}>
            <div className="rewind-row">
              <strong>
                Branch {browsing.branch.id}, step {formatCount(browsing.step)}
              </strong>
              <span className="rewind-note">read-only · {browsing.branch.label}</span>
              {browsing.frame && (
                <span className="mono" data-testid={`${target}-branch-step-loss`}>
                  loss {formatValue(browsing.frame.tensors.loss?.data[0] ?? null)}
                </span>
              )}
              {browsing.status === "loading" && <span className="rewind-note">loading…</span>}
              {browsing.status === "error" && <span className="rewind-note">{browsing.detail}</span>}
              {browsing.frame && (
                <button type="button" className="btn btn-sm" onClick={() => setTensors(!tensors)} aria-pressed={tensors} data-testid={`${target}-branch-step-tensors`}>
                  {tensors ? "Hide its tensors" : "Show its tensors"}
                </button>
              )}
              <button type="button" className="btn btn-sm" onClick={closeBranchStep} data-testid={`${target}-branch-step-close`}>
                Close
              </button>
            </div>
            {browsing.frame && tensors && (
              <StepViews frame={browsing.frame} source={branchStepsPath(target, browsing.branch.id)} />
            )}
          </div>
        )}
      </div>
    </section>
  );
}

function BranchRow(props: { target: RewindTarget; branch: BranchSummary; open: boolean; onToggle: () => void; shownStep: number | null }) {
  const { target, branch } = props;
  return (
    <li className="rewind-branch" aria-current={props.open} data-testid={`${target}-branch`} data-branch={branch.id}>
      <span className="rewind-swatch" style={{ color: branchColor(branch.id) }} aria-hidden="true" />
      <strong>Branch {branch.id}</strong>
      <span>{branch.label}</span>
      <span className="rewind-note">
        steps {formatCount(branch.first_step ?? 0)}–{formatCount(branch.last_step ?? 0)} · forks at {formatCount(branch.fork_step)} ·{" "}
        {branch.held.length} held
      </span>
      <button type="button" className="btn btn-sm" onClick={props.onToggle} disabled={!branch.held.length} data-testid={`${target}-branch-browse`}>
        {props.open ? "Hide steps" : "Browse"}
      </button>
      {props.open && (
        <div className="rewind-held">
          {branch.held.map((step) => (
            <button
              key={step}
              type="button"
              className={step === props.shownStep ? "btn btn-sm btn-primary" : "btn btn-sm"}
              onClick={() => void showBranchStep(target, branch, step)}
              data-testid={`${target}-branch-held-step`}
              data-step={step}
            >
              {step}
            </button>
          ))}
        </div>
      )}
    </li>
  );
}
