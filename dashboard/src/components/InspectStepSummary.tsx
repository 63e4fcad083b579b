import { useStore } from "@nanostores/react";

import { StepTensorKey } from "../lib/generated/tensor-keys";
import { formatBytes, formatCount, formatDelta, formatValue } from "../lib/format";
import {
  $inspectFrame,
  $inspectHistory,
  $inspectLatestStep,
  $inspectSelection,
  $inspectSession,
  $inspectState,
  historyValue,
} from "../lib/inspect-store";
import { frameScalar } from "../lib/tensor-frame";

const LOSS = StepTensorKey.LOSS;

/** The step on screen: its number, its loss (and the change from the step before), and the session. */
export default function InspectStepSummary() {
  const state = useStore($inspectState, { ssr: "initial" });
  const session = useStore($inspectSession, { ssr: () => null });
  const latest = useStore($inspectLatestStep, { ssr: () => 0 });
  const selection = useStore($inspectSelection, { ssr: "initial" });
  const frame = useStore($inspectFrame, { ssr: "initial" });
  const history = useStore($inspectHistory, { ssr: "initial" });

  const step = selection.step ?? (session ? 0 : null);
  const fromFrame = frame && frame.step === step ? frameScalar(frame, LOSS) : undefined;
  const fromHistory = step ? historyValue(history, LOSS, step) : undefined;
  const loss = fromFrame ?? (typeof fromHistory === "number" ? fromHistory : null);
  const before = step && step > 1 ? historyValue(history, LOSS, step - 1) : undefined;
  const delta = loss !== null && Number.isFinite(loss) && typeof before === "number" ? loss - before : null;

  return (
    <section className="card stat-strip" aria-label="Step summary" data-testid="inspect-summary">
      <div className="stat">
        <span className="stat-label">Step</span>
        <span className="stat-value">
          <span className="big-number" data-testid="inspect-step-number">
            {step === null ? "—" : formatCount(step)}
          </span>
          {session && step !== null && step < latest && (
            <span className="stat-sub" data-testid="inspect-latest-step">
              of {formatCount(latest)}
            </span>
          )}
          {session && step !== null && step > 0 && step === latest && <span className="tag tag-accent">latest</span>}
        </span>
        <span className="stat-foot">
          {session ? (step === 0 ? "fresh session, nothing run yet" : `${formatCount(latest)} run in this session`) : "no session"}
        </span>
      </div>

      <div className="stat">
        <span className="stat-label" title="Reconstruction loss of the step">
          Loss
        </span>
        <span className="stat-value">
          <span className="big-number mono-num" data-testid="inspect-loss" data-value={loss ?? ""}>
            {step ? formatValue(loss) : "—"}
          </span>
          {delta !== null && (
            <span className={delta <= 0 ? "delta delta-down" : "delta delta-up"} title="Change from the step before">
              {delta <= 0 ? "▼" : "▲"} {formatDelta(delta)}
            </span>
          )}
        </span>
        <span className="stat-foot">{step ? lossNote(loss, delta, step) : session ? "press Step to run a batch" : "—"}</span>
      </div>

      <div className="stat">
        <span className="stat-label">Full tensors held</span>
        <span className="stat-value">
          <span className="stat-text" data-testid="inspect-retained">
            {session?.retained ? formatRange(session.retained) : session ? "none yet" : "—"}
          </span>
        </span>
        <span className="stat-foot">
          {session
            ? `last ${session.max_full_snapshots} steps · ${formatBytes(session.snapshot_bytes)} of ${formatBytes(session.max_snapshot_bytes)}`
            : "—"}
        </span>
      </div>

      <div className="stat">
        <span className="stat-label">Session</span>
        <span className="stat-value">
          <span className="stat-text" data-testid="inspect-session-condition">
            {session?.condition ?? (state === null ? "connecting…" : "none")}
          </span>
          {session && <span className="tag mono" title="session id">{session.session_id}</span>}
        </span>
        <span className="stat-foot" data-testid="inspect-session-meta">
          {session
            ? `seed ${session.seed} · ${session.device} · D ${session.model_dim} · batch ${session.batch_size}`
            : state?.owner
              ? `model held by ${state.owner}`
              : "no session yet: Step or Set up starts one"}
        </span>
      </div>
    </section>
  );
}

function lossNote(loss: number | null, delta: number | null, step: number): string {
  if (delta !== null) return "vs. the step before";
  if (loss !== null && !Number.isFinite(loss)) return "not a finite number";
  return step === 1 ? "first step" : "no loss of the step before to compare";
}

function formatRange([first, last]: [number, number]): string {
  return first === last ? `step ${formatCount(first)}` : `steps ${formatCount(first)}–${formatCount(last)}`;
}
