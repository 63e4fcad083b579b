import { useStore } from "@nanostores/react";
import { useState } from "react";

import { MAX_RUN_STEPS } from "../lib/generated/limits";
import {
  $codebookConfig,
  $codebookForm,
  $codebookLive,
  $codebookRun,
  $codebookSetup,
  $codebookStep,
  $otherRun,
  setFormField,
  startCodebookRun,
  stepCodebookRun,
} from "../lib/codebook-store";
import type { CodebookCondition } from "../lib/codebook-types";
import { formatCount } from "../lib/format";
import { $runBusy, $runStream, pauseRun, resumeRun, type RunAction, stopRun } from "../lib/run-store";

const CONDITIONS: { id: CodebookCondition; label: string; hint: string }[] = [
  {
    id: "ema",
    label: "EMA",
    hint: "Codes follow exponential moving averages of the vectors assigned to them (decay 0.99); no codebook gradient.",
  },
  {
    id: "learned",
    label: "Learned",
    hint: "Codes are parameters moved by the optimizer through the codebook loss, so their gradients can be watched.",
  },
  {
    id: "collapse",
    label: "Collapse demo",
    hint: "A learned codebook drawn far from the data (8× scale, no data init): it collapses onto a few codes — what the warnings are for.",
  },
];

const STATUS_LABEL: Record<string, string> = {
  running: "Running",
  paused: "Paused",
  completed: "Completed",
  stopped: "Stopped",
  failed: "Failed",
};

/** The run form (levels, commitment, codebook type, Sinkhorn loss, revival, steps) and the run controls. */
export default function CodebookControls() {
  const form = useStore($codebookForm, { ssr: "initial" });
  const setup = useStore($codebookSetup, { ssr: "initial" });
  const run = useStore($codebookRun, { ssr: () => null });
  const live = useStore($codebookLive, { ssr: () => false });
  const step = useStore($codebookStep, { ssr: () => 0 });
  const config = useStore($codebookConfig, { ssr: "initial" });
  const busy = useStore($runBusy, { ssr: "initial" });
  const other = useStore($otherRun, { ssr: () => null });
  const stream = useStore($runStream, { ssr: "initial" });

  const locked = live || busy !== null;
  const paused = run?.status === "paused";
  const condition = CONDITIONS.find((c) => c.id === form.condition) ?? CONDITIONS[0];
  const runConfig = config && run && config.runId === run.run_id ? config.config : null;
  const rule = runConfig ? setup?.num_codes_rule ?? runConfig.num_codes_rule : setup?.num_codes_rule;
  const sinkhornOn = form.wasserstein_weight > 0;

  const button = (action: RunAction, label: string, onClick: () => void, enabled: boolean, extra = "") => (
    <button
      type="button"
      className={`btn ${extra}`}
      disabled={!enabled || busy !== null}
      aria-busy={busy?.action === action}
      data-testid={`codebook-${action === "step" && label !== "Step" ? "step10" : action}-btn`}
      onClick={onClick}
    >
      {busy?.action === action && <span className="spinner spinner-sm" aria-hidden="true" />}
      {label}
    </button>
  );

  return (
    <section className="card cb-controls" aria-labelledby="cb-controls-title" data-testid="codebook-controls">
      <header className="card-head">
        <h2 id="cb-controls-title">VQ-VAE run on MNIST</h2>
        <div className="cb-run-status">
          {run ? (
            <>
              <span className={`status-pill cb-status-${run.status}`} data-testid="codebook-status" data-status={run.status} data-blocked={run.blocked ? "true" : "false"}>
                <span className="status-dot" aria-hidden="true" />
                {STATUS_LABEL[run.status] ?? run.status}
              </span>
              <span className="cb-run-meta mono" data-testid="codebook-step">
                step {formatCount(step)} / {formatCount(run.steps)}
              </span>
              {run.status === "running" && run.steps_per_second > 0 && (
                <span className="cb-run-meta">{run.steps_per_second.toFixed(1)} steps/s</span>
              )}
              <span className="cb-run-meta">
                {run.condition} · seed {run.seed}
              </span>
            </>
          ) : (
            <span className="cb-run-meta">No VQ-VAE run yet</span>
          )}
          {stream !== "open" && (
            <span className="status-pill status-connecting" title="The run's event stream is (re)connecting">
              <span className="status-dot" aria-hidden="true" />
              live updates {stream}
            </span>
          )}
        </div>
      </header>

      <div className="cb-form">
        <div className="cb-field cb-field-wide">
          <span className="control-label" id="cb-type-label">
            Codebook type
          </span>
          <div className="cb-segmented" role="radiogroup" aria-labelledby="cb-type-label" data-testid="codebook-condition">
            {CONDITIONS.map((c) => (
              <button
                key={c.id}
                type="button"
                role="radio"
                aria-checked={form.condition === c.id}
                className={form.condition === c.id ? "cb-segmented-btn active" : "cb-segmented-btn"}
                disabled={locked}
                title={c.hint}
                data-testid={`codebook-condition-${c.id}`}
                onClick={() => setFormField("condition", c.id)}
              >
                {c.label}
              </button>
            ))}
          </div>
          <p className="cb-hint">{condition.hint}</p>
        </div>

        <label className="cb-field">
          <span className="control-label">RVQ levels</span>
          <span className="cb-slider-row">
            <input
              type="range"
              className="cb-range"
              min={2}
              max={4}
              step={1}
              value={form.levels}
              disabled={locked}
              data-testid="codebook-levels"
              onChange={(e) => setFormField("levels", Number(e.currentTarget.value))}
            />
            <output className="cb-readout mono" data-testid="codebook-levels-value">
              {form.levels}
            </output>
          </span>
          <span className="cb-hint">residual codebooks, each quantising what the previous left</span>
        </label>

        <label className="cb-field">
          <span className="control-label">Commitment weight</span>
          <NumberInput
            value={form.commitment}
            min={0}
            max={10}
            step={0.05}
            disabled={locked}
            testId="codebook-commitment"
            onChange={(v) => setFormField("commitment", v)}
          />
          <span className="cb-hint">β in β · ‖z − sg(c)‖²: pulls each encoder output towards its code</span>
        </label>

        <div className="cb-field">
          <span className="control-label">Sinkhorn dead-code loss</span>
          <span className="cb-pair">
            <label className="cb-inline">
              <span>weight</span>
              <NumberInput
                value={form.wasserstein_weight}
                min={0}
                max={100}
                step={0.05}
                disabled={locked}
                testId="codebook-wasserstein-weight"
                onChange={(v) => setFormField("wasserstein_weight", v)}
              />
            </label>
            <label className="cb-inline">
              <span>ε</span>
              <NumberInput
                value={form.wasserstein_epsilon}
                min={0.001}
                max={10}
                step={0.01}
                disabled={locked || !sinkhornOn}
                testId="codebook-wasserstein-epsilon"
                onChange={(v) => setFormField("wasserstein_epsilon", v)}
              />
            </label>
          </span>
          <span className="cb-hint">{sinkhornOn ? "entropic OT between level-1 codes and encoder outputs" : "off at weight 0"}</span>
        </div>

        <div className="cb-field">
          <span className="control-label">Dead-code revival</span>
          <label className="cb-switch">
            <input
              type="checkbox"
              checked={form.revive}
              disabled={locked}
              data-testid="codebook-revive"
              onChange={(e) => setFormField("revive", e.currentTarget.checked)}
            />
            <span className="cb-switch-track" aria-hidden="true" />
            <span>{form.revive ? "On" : "Off"}</span>
          </label>
          <span className="cb-hint">re-seed dead codes from batch vectors; logged on the timeline</span>
        </div>

        <label className="cb-field">
          <span className="control-label">Steps</span>
          <NumberInput
            value={form.steps}
            min={1}
            max={MAX_RUN_STEPS}
            step={100}
            integer
            disabled={locked}
            testId="codebook-steps"
            onChange={(v) => setFormField("steps", v)}
          />
          <span className="cb-hint">batches of 128 images</span>
        </label>

        <div className="cb-field cb-auto-size" data-testid="codebook-auto-size">
          <span className="control-label">Codebook size</span>
          {runConfig ? (
            <span className="cb-size-value">
              <strong className="mono" data-testid="codebook-auto-size-value">
                {formatCount(runConfig.num_codes)}
              </strong>{" "}
              codes / level
              <span className="tag">{runConfig.auto_num_codes ? "auto" : "set"}</span>
            </span>
          ) : (
            <span className="cb-size-value muted">auto — decided when training starts</span>
          )}
          <span className="cb-hint" data-testid="codebook-auto-size-rule">
            {rule ?? "the power of two nearest to √(training images), in 16..512"}
            {runConfig && ` · ${runConfig.levels} levels × ${runConfig.code_dim}-dim codes, ${runConfig.kind}`}
          </span>
        </div>
      </div>

      <footer className="cb-actions">
        {button("start", "Start", () => void startCodebookRun(), !live && !other, "btn-primary")}
        <span className="control-divider" aria-hidden="true" />
        {button("pause", "Pause", () => void pauseRun(), run?.status === "running")}
        {button("step", "Step", () => void stepCodebookRun(1), paused)}
        {button("step", "Step ×10", () => void stepCodebookRun(10), paused)}
        {button("resume", "Resume", () => void resumeRun(), paused)}
        {button("stop", "Stop", () => void stopRun(), live, "btn-danger")}
        <span className="control-spacer" />
        {other ? (
          <span className="cb-note" data-testid="codebook-other-run">
            A <code>{other.recipe}</code> run ({other.condition}) holds the model — stop it on the <a href="/">Runs</a> page first.
          </span>
        ) : (
          <span className="cb-note muted">
            {paused ? "Paused: Step trains one batch at a time." : live ? "Pausing takes effect after the current step." : ""}
          </span>
        )}
      </footer>
    </section>
  );
}

/**
 * A number field that keeps what is typed (an empty or half-typed value stays on screen) and
 * reports only numbers within [min, max]; leaving the field shows the value in use again.
 */
function NumberInput(props: {
  value: number;
  min: number;
  max: number;
  step: number;
  integer?: boolean;
  disabled: boolean;
  testId: string;
  onChange: (value: number) => void;
}) {
  const [text, setText] = useState(String(props.value));
  // A value set from outside (the trainer's defaults): show it unless the text already means it
  // (adjusted while rendering, React's pattern for state that follows a prop).
  const [outside, setOutside] = useState(props.value);
  if (outside !== props.value) {
    setOutside(props.value);
    if (Number(text) !== props.value) setText(String(props.value));
  }
  const parsed = Number(text);
  const valid = text.trim() !== "" && Number.isFinite(parsed) && parsed >= props.min && parsed <= props.max && (!props.integer || Number.isInteger(parsed));
  return (
    <input
      type="number"
      className="cb-number mono"
      value={text}
      min={props.min}
      max={props.max}
      step={props.step}
      disabled={props.disabled}
      aria-invalid={!valid}
      title={valid ? undefined : `a number in ${props.min}..${props.max}${props.integer ? ", whole" : ""}`}
      data-testid={props.testId}
      onChange={(e) => {
        const raw = e.currentTarget.value;
        setText(raw);
        const value = Number(raw);
        if (raw.trim() === "" || !Number.isFinite(value) || value < props.min || value > props.max) return;
        if (props.integer && !Number.isInteger(value)) return;
        props.onChange(value);
      }}
      onBlur={() => setText(String(props.value))}
    />
  );
}
