// Mirrors the trainer's rewind and branch answers (docs/http_api.md "POST /inspect/rewind",
// "GET /inspect/branches", `POST /debug/rewind`; acc/branches.py `Branch.summary`). Keep the two
// in step.

/** A branch: the steps after `fork_step` that a rewind left behind (read-only). */
export interface BranchSummary {
  id: number;
  fork_step: number;
  /** What started it: its first live edit ("lr 0.001 → 0.01 at step 6"), else "from step 5". */
  label: string;
  first_step: number | null;
  last_step: number | null;
  /** How many steps it has (their losses are all kept). */
  steps: number;
  /** The steps whose full tensors it still holds. */
  held: number[];
  /** Epoch seconds of the rewind that made it. */
  created: number;
}

/** `POST /inspect/rewind` and `POST /debug/rewind` add these to the state they answer. */
export interface RewindFields {
  rewound_to: number;
  /** Null when no steps followed the step gone back to. */
  branch: BranchSummary | null;
}

/** Where a rewind applies: the inspector session or the free run. */
export type RewindTarget = "inspect" | "run";
