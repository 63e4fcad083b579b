import { useStore } from "@nanostores/react";
import { type FormEvent, useState } from "react";

import {
  DEFAULT_BCL_DIM,
  DEFAULT_CAPTURE_EVERY,
  DEFAULT_RUN_STEPS,
  MAX_BCL_DIM,
  MAX_CAPTURE_EVERY,
  MAX_RUN_STEPS,
  MAX_SEED,
  MIN_BCL_DIM,
} from "../lib/generated/limits";
import {
  $run,
  $runBusy,
  $runLive,
  $runState,
  $runStream,
  pauseRun,
  type RunBusy,
  resumeRun,
  stopRun,
} from "../lib/run-store";
import { $runRecipes, DEFAULT_CONDITION, DEFAULT_RECIPE, startRun, stepRun } from "../lib/runs-store";
import BusyNote from "./BusyNote";


const BUSY_TEXT: Record<RunBusy["action"], string> = {
  start: "Starting the run…",
  pause: "Pausing…",
  resume: "Resuming…",
  step: "Stepping one batch…",
  stop: "Stopping…",
  rewind: "Rewinding…",
};

/** The new-run form (recipe, condition, steps, seed, capture every) and Pause / Step / Resume / Stop. */
export default function RunsControls() {
  const state = useStore($runState, { ssr: "initial" });
  const run = useStore($run, { ssr: () => null });
  const live = useStore($runLive, { ssr: () => false });
  const busy = useStore($runBusy, { ssr: "initial" });
  const recipes = useStore($runRecipes, { ssr: "initial" });
  const stream = useStore($runStream, { ssr: "initial" });

  const [recipe, setRecipe] = useState(DEFAULT_RECIPE);
  const [condition, setCondition] = useState(DEFAULT_CONDITION);
  const [steps, setSteps] = useState(String(DEFAULT_RUN_STEPS));
  const [seed, setSeed] = useState("0");
  const [captureEvery, setCaptureEvery] = useState(String(DEFAULT_CAPTURE_EVERY));
  const [width, setWidth] = useState(String(DEFAULT_BCL_DIM));

  // The conditions of the recipe picked in the form, not of the recipe the last run had.
  const catalogue = state?.recipe_conditions?.[recipe];
  const conditions = catalogue?.conditions ?? [DEFAULT_CONDITION];
  const pickRecipe = (name: string) => {
    setRecipe(name);
    const offered = state?.recipe_conditions?.[name];
    if (offered && !offered.conditions.includes(condition)) setCondition(offered.default_condition);
  };
  const recipeChoices = recipes.includes(recipe) ? recipes : [recipe, ...recipes];
  const stepsValue = toInt(steps, 1, MAX_RUN_STEPS);
  const seedValue = toInt(seed, 0, MAX_SEED);
  const captureValue = toInt(captureEvery, 1, MAX_CAPTURE_EVERY);
  // The width is an option of the BCL recipe only.
  const hasWidth = recipe === DEFAULT_RECIPE;
  const widthValue = toInt(width, MIN_BCL_DIM, MAX_BCL_DIM);
  const formValid = stepsValue !== null && seedValue !== null && captureValue !== null && (!hasWidth || widthValue !== null);
  const formLocked = state === null || live || busy !== null;

  const status = run?.status ?? null;
  const paused = status === "paused";
  const running = status === "running";

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (formLocked || !formValid) return;
    const options = hasWidth && widthValue !== null ? { options: { dim: widthValue } } : {};
    void startRun({ recipe, condition, steps: stepsValue, seed: seedValue, capture_every: captureValue, ...options });
  };

  return (
    <section className="card runs-controls" aria-label="Run controls" data-testid="runs-controls">
      <form className="runs-form" onSubmit={onSubmit} data-testid="runs-form">
        <Field label="Recipe" htmlFor="runs-recipe">
          <div className="select-wrap">
            <select
              id="runs-recipe"
              className="select runs-select-wide"
              data-testid="runs-recipe"
              value={recipe}
              disabled={formLocked}
              onChange={(event) => pickRecipe(event.target.value)}
            >
              {recipeChoices.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </div>
        </Field>
        <Field label="Condition" htmlFor="runs-condition">
          <div className="select-wrap">
            <select
              id="runs-condition"
              className="select"
              data-testid="runs-condition"
              value={condition}
              disabled={formLocked}
              onChange={(event) => setCondition(event.target.value)}
            >
              {(conditions.includes(condition) ? conditions : [condition, ...conditions]).map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </div>
        </Field>
        <NumberField id="runs-steps" label="Steps" value={steps} onChange={setSteps} min={1} max={MAX_RUN_STEPS} disabled={formLocked} wide />
        <NumberField id="runs-seed" label="Seed" value={seed} onChange={setSeed} min={0} max={MAX_SEED} disabled={formLocked} />
        {hasWidth && (
          <NumberField
            id="runs-width"
            label="Width D"
            value={width}
            onChange={setWidth}
            min={MIN_BCL_DIM}
            max={MAX_BCL_DIM}
            disabled={formLocked}
            title={`Features D of the encoder: an integer in ${MIN_BCL_DIM}..${MAX_BCL_DIM} (default ${DEFAULT_BCL_DIM})`}
          />
        )}
        <NumberField
          id="runs-capture-every"
          label="Capture every"
          value={captureEvery}
          onChange={setCaptureEvery}
          min={1}
          max={MAX_CAPTURE_EVERY}
          disabled={formLocked}
          title="Full tensors are kept every this many steps while running (every stepped step is kept)"
        />
        <span className="control-spacer" />
        <button
          type="submit"
          className="btn btn-primary runs-start-btn"
          data-testid="runs-start-btn"
          disabled={formLocked || !formValid}
          aria-busy={busy?.action === "start"}
          title={live ? "A run is going on: stop it first" : "Start a free run with these settings"}
        >
          {busy?.action === "start" ? <span className="spinner" aria-hidden="true" /> : <PlayIcon />}
          {busy?.action === "start" ? "Starting…" : run ? "Start new run" : "Start"}
        </button>
      </form>

      <div className="runs-actions" role="group" aria-label="Control the run">
        <div className="btn-group">
          <button
            type="button"
            className="btn"
            data-testid="runs-pause-btn"
            disabled={!running || busy !== null}
            onClick={() => void pauseRun()}
            title="Stop at the next step boundary"
          >
            <PauseIcon />
            Pause
          </button>
          <button
            type="button"
            className="btn btn-primary"
            data-testid="runs-step-btn"
            disabled={!paused || busy !== null}
            aria-busy={busy?.action === "step"}
            onClick={() => void stepRun(1)}
            title={paused ? "Advance exactly one batch" : "Pause the run to step it one batch at a time"}
          >
            {busy?.action === "step" ? <span className="spinner" aria-hidden="true" /> : <StepIcon />}
            Step
          </button>
          <button
            type="button"
            className="btn"
            data-testid="runs-resume-btn"
            disabled={!paused || busy !== null}
            onClick={() => void resumeRun()}
            title="Continue at full speed"
          >
            <PlayIcon />
            Resume
          </button>
          <button
            type="button"
            className="btn btn-danger"
            data-testid="runs-stop-btn"
            disabled={!live || busy !== null}
            onClick={() => void stopRun()}
            title="End the run after its current step"
          >
            <StopIcon />
            Stop
          </button>
        </div>
        <BusyNote busy={busy} text={(b) => BUSY_TEXT[b.action]} testId="runs-busy" />
        <span className="control-spacer" />
        <span className={`runs-stream runs-stream-${stream}`} data-testid="runs-stream" data-state={stream} title="Server-sent events from /runs/events">
          <span className="status-dot" aria-hidden="true" />
          {stream === "open" ? "Live" : stream === "connecting" ? "Connecting…" : "Reconnecting…"}
        </span>
      </div>
    </section>
  );
}

function Field(props: { label: string; htmlFor: string; children: React.ReactNode; title?: string }) {
  return (
    <div className="runs-field" title={props.title}>
      <label htmlFor={props.htmlFor} className="control-label">
        {props.label}
      </label>
      {props.children}
    </div>
  );
}

function NumberField(props: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  min: number;
  max: number;
  disabled: boolean;
  wide?: boolean;
  title?: string;
}) {
  const valid = toInt(props.value, props.min, props.max) !== null;
  return (
    <Field label={props.label} htmlFor={props.id} title={props.title}>
      <input
        id={props.id}
        className={`input mono${props.wide ? " input-wide" : ""}${valid ? "" : " invalid"}`}
        data-testid={props.id}
        type="number"
        inputMode="numeric"
        min={props.min}
        max={props.max}
        step={1}
        value={props.value}
        disabled={props.disabled}
        aria-invalid={!valid}
        onChange={(event) => props.onChange(event.target.value)}
      />
    </Field>
  );
}

/** An integer in min..max from a text field, else null. */
function toInt(text: string, min: number, max: number): number | null {
  if (!/^\s*\d+\s*$/.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) && value >= min && value <= max ? value : null;
}

function PlayIcon() {
  return (
    <svg className="btn-glyph" viewBox="0 0 16 16" aria-hidden="true">
      <path d="M5 3.5v9l7-4.5z" fill="currentColor" />
    </svg>
  );
}

function PauseIcon() {
  return (
    <svg className="btn-glyph" viewBox="0 0 16 16" aria-hidden="true">
      <rect x="4" y="3.5" width="2.6" height="9" rx="0.6" fill="currentColor" />
      <rect x="9.4" y="3.5" width="2.6" height="9" rx="0.6" fill="currentColor" />
    </svg>
  );
}

function StepIcon() {
  return (
    <svg className="btn-glyph" viewBox="0 0 16 16" aria-hidden="true">
      <path d="M3.5 3.5v9l6-4.5z" fill="currentColor" />
      <rect x="10.5" y="3.5" width="2.4" height="9" rx="0.6" fill="currentColor" />
    </svg>
  );
}

function StopIcon() {
  return (
    <svg className="btn-glyph" viewBox="0 0 16 16" aria-hidden="true">
      <rect x="4" y="4" width="8" height="8" rx="1.2" fill="currentColor" />
    </svg>
  );
}
