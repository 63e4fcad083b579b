// The runs archive's answers (`/archive/*`, acc/api/archive.py), as the History page reads them.

/** Where an archived run stands; `interrupted`: its process died before it ended. */
export type ArchivedStatus = "running" | "completed" | "stopped" | "failed" | "interrupted";

export const ARCHIVED_STATUSES: readonly ArchivedStatus[] = ["running", "completed", "stopped", "failed", "interrupted"];

/** One line of the archive's list (`GET /archive/runs`). */
/** One event of an archived run (`GET /archive/runs/{id}`). */
export interface ArchivedEvent {
  step: number | null;
  wall: number;
  kind: string;
  name?: string;
  old?: number | string | boolean | null;
  new?: number | string | boolean | null;
}

export interface ArchivedRun {
  id: string;
  kind: string;
  recipe: string;
  condition: string;
  options: Record<string, unknown>;
  seed: number | null;
  status: ArchivedStatus;
  /** Seconds since the epoch. */
  started_at: number;
  ended_at: number | null;
  duration: number | null;
  steps: number;
  last_step: number | null;
  final_loss: number | null;
  best_loss: number | null;
  error: string | null;
  tensor_bytes: number;
  kept_steps: number[];
  /** Pauses, resumes, failures; live edits and breakpoints also carry `name`, `old`, `new`. */
  events: ArchivedEvent[];
}

export interface ArchiveList {
  runs: ArchivedRun[];
  total: number;
  archive_bytes: number;
  max_bytes: number | null;
  runs_dir: string;
}

/** `GET /archive/runs/{id}/history`: the live history's shape plus each step's wall time. */
export interface ArchiveHistory {
  since: number;
  steps: number[];
  columns: Record<string, (number | null)[]>;
  more: boolean;
  wall: number[];
  keys: string[];
}

export interface ArchiveDeleted {
  deleted: string;
  archive_bytes: number;
}
