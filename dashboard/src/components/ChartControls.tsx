// The controls every chart head shares: a row of mutually exclusive buttons and the smoothing
// slider. One home, so that every chart looks and answers the keyboard alike.
import { MAX_SMOOTHING } from "../lib/runs/line";

export interface SegmentedOption<T extends string> {
  value: T;
  label: string;
  title?: string;
  disabled?: boolean;
}

/** Mutually exclusive buttons (`aria-pressed`); each gets `data-testid="<testIdPrefix>-<value>"`. */
export function Segmented<T extends string>({
  label,
  options,
  value,
  onChange,
  testIdPrefix,
  small = false,
}: {
  label: string;
  options: readonly SegmentedOption<T>[];
  value: T;
  onChange: (value: T) => void;
  testIdPrefix: string;
  small?: boolean;
}) {
  return (
    <div className={small ? "segmented segmented-sm" : "segmented"} role="group" aria-label={label}>
      {options.map((option) => (
        <button
          key={option.value}
          type="button"
          className={option.value === value ? "segmented-btn active" : "segmented-btn"}
          aria-pressed={option.value === value}
          title={option.title}
          disabled={option.disabled}
          data-testid={`${testIdPrefix}-${option.value}`}
          onClick={() => onChange(option.value)}
        >
          {option.label}
        </button>
      ))}
    </div>
  );
}

/** The exponential-moving-average weight of a chart's curves, 0..MAX_SMOOTHING. */
export function SmoothingSlider({
  value,
  onChange,
  testId,
  title,
}: {
  value: number;
  onChange: (value: number) => void;
  testId: string;
  title: string;
}) {
  return (
    <label className="runs-smoothing" title={title}>
      <span className="muted">smoothing</span>
      <input
        type="range"
        min={0}
        max={MAX_SMOOTHING}
        step={0.01}
        value={value}
        data-testid={testId}
        aria-label="Smoothing (exponential moving average weight)"
        onChange={(event) => onChange(Number(event.target.value))}
      />
      <span className="mono runs-smoothing-value" data-testid={`${testId}-value`}>
        {value.toFixed(2)}
      </span>
    </label>
  );
}
