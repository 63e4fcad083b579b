"""The archive's words, importable without torch (the CLI's parser reads them)."""

from __future__ import annotations

from enum import StrEnum

DEFAULT_RUNS_DIR = "acc-runs"


class RunStatus(StrEnum):
    """Where an archived run stands."""

    RUNNING = "running"
    COMPLETED = "completed"
    STOPPED = "stopped"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # its process died before it ended


class RunKind(StrEnum):
    """What made the run."""

    FREE_RUN = "free run"
    INSPECTOR = "inspector session"
    CLI = "cli run"
    ATTACHED = "attached loop"
