import { useState } from "react";

import { DEFAULT_BCL_DIM, MAX_BCL_DIM, MIN_BCL_DIM } from "../lib/generated/limits";

/**
 * "Width D": the number of encoder features (the recipe option `dim`), committed on Enter or when
 * the field loses focus; a value outside MIN_BCL_DIM..MAX_BCL_DIM is refused in place. Remount it
 * (`key`) to show a new `value`.
 */
export default function WidthInput(props: { id: string; testId: string; value: number; disabled?: boolean; title?: string; onCommit: (dim: number) => void }) {
  const [draft, setDraft] = useState(String(props.value));
  const parsed = Number(draft);
  const valid = Number.isInteger(parsed) && parsed >= MIN_BCL_DIM && parsed <= MAX_BCL_DIM;
  const commit = () => {
    if (valid && parsed !== props.value) props.onCommit(parsed);
    else if (!valid) setDraft(String(props.value));
  };
  return (
    <div className="control-field">
      <label htmlFor={props.id} className="control-label">
        Width D
      </label>
      <input
        id={props.id}
        className={valid ? "input input-narrow" : "input input-narrow invalid"}
        type="number"
        inputMode="numeric"
        min={MIN_BCL_DIM}
        max={MAX_BCL_DIM}
        step={1}
        value={draft}
        disabled={props.disabled}
        aria-invalid={!valid}
        title={props.title ?? `Features D of the encoder: an integer in ${MIN_BCL_DIM}..${MAX_BCL_DIM} (default ${DEFAULT_BCL_DIM})`}
        data-testid={props.testId}
        onChange={(event) => setDraft(event.target.value)}
        onBlur={commit}
        onKeyDown={(event) => {
          if (event.key === "Enter") commit();
        }}
      />
    </div>
  );
}
