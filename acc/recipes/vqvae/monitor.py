"""Codebook dynamics: snapshots of every level's codebook (every 50 steps, the last 200 kept),
the per-code gradient-norm EMA (α = 0.05, learned codebooks), EMA cluster sizes (EMA codebooks),
per-step drift and quantisation error (the last 20,000 steps) and the log of dead-code revivals."""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from acc.recipes.vqvae.health import codebook_drift

SNAPSHOT_EVERY = 50
MAX_SNAPSHOTS = 200
GRAD_ALPHA = 0.05
MAX_DRIFT_POINTS = 20_000


@dataclass(frozen=True)
class RevivalEvent:
    """A dead code re-seeded from a batch vector."""

    step: int
    level: int  # 1-based
    code: int
    old_count: float
    source: str  # where the new vector came from, e.g. "batch vector 17"


def pca_2d(points: np.ndarray, basis_from: np.ndarray) -> np.ndarray:
    """Project `[..., dim]` points on the two principal axes of `basis_from` ([K, dim]); points
    of dimension 2 are returned as they are."""
    if points.shape[-1] == 2:
        return points.astype(np.float64)
    mean = basis_from.mean(0)
    _, _, vt = np.linalg.svd(basis_from - mean, full_matrices=False)
    axes = vt[:2]
    if axes.shape[0] < 2:  # a degenerate codebook: pad with a zero axis
        axes = np.vstack([axes, np.zeros((2 - axes.shape[0], basis_from.shape[1]))])
    return np.asarray((points - mean) @ axes.T, dtype=np.float64)


class CodebookMonitor:
    """Records a residual codebook's dynamics, step by step."""

    def __init__(
        self,
        num_levels: int,
        num_codes: int,
        snapshot_every: int = SNAPSHOT_EVERY,
        max_snapshots: int = MAX_SNAPSHOTS,
        grad_alpha: float = GRAD_ALPHA,
    ) -> None:
        self.num_levels = num_levels
        self.num_codes = num_codes
        self.snapshot_every = snapshot_every
        self.grad_alpha = grad_alpha
        self._snapshots: deque[tuple[int, np.ndarray]] = deque(maxlen=max_snapshots)
        self._previous: np.ndarray | None = None
        self._drift: deque[tuple[int, np.ndarray]] = deque(maxlen=MAX_DRIFT_POINTS)
        self._error: deque[tuple[int, np.ndarray]] = deque(maxlen=MAX_DRIFT_POINTS)
        self.last_drift: np.ndarray | None = None  # [L], of the last recorded step
        self.grad_ema: np.ndarray | None = None  # [L, K]
        self.ema_cluster_sizes: np.ndarray | None = None  # [L, K]
        self.events: list[RevivalEvent] = []
        self.last_step: int | None = None  # the step recorded last

    def record(
        self,
        step: int,
        codebooks: np.ndarray,
        code_grads: np.ndarray | None = None,
        ema_cluster_sizes: np.ndarray | None = None,
        revived: list[list[Any]] | None = None,
        quantisation_error: np.ndarray | None = None,
    ) -> None:
        """One step: `codebooks` `[L, K, dim]` after the update, `code_grads` `[L, K, dim]` (learned
        codebooks), the EMA cluster sizes `[L, K]` (EMA codebooks), each level's revivals and the
        batch's `[L]` quantisation error. The step's drift is then `last_drift` (None at the
        first step recorded: there is no previous codebook)."""
        self.last_drift = None
        self.last_step = step
        if self._previous is not None:
            self.last_drift = np.array(
                [
                    codebook_drift(codebooks[level], self._previous[level])
                    for level in range(len(codebooks))
                ]
            )
            self._drift.append((step, self.last_drift))
        if quantisation_error is not None:
            self._error.append((step, np.asarray(quantisation_error, dtype=np.float64)))
        self._previous = codebooks.copy()
        if not self._snapshots or step % self.snapshot_every == 0:
            self._snapshots.append((step, codebooks.copy()))
        if code_grads is not None:
            norms = np.linalg.norm(code_grads, axis=-1)  # [L, K]
            if self.grad_ema is None:
                self.grad_ema = norms
            else:
                self.grad_ema = (1 - self.grad_alpha) * self.grad_ema + self.grad_alpha * norms
        if ema_cluster_sizes is not None:
            self.ema_cluster_sizes = np.asarray(ema_cluster_sizes, dtype=np.float64).copy()
        for level, events in enumerate(revived or []):
            for event in events:
                self.events.append(
                    RevivalEvent(
                        step,
                        level + 1,
                        int(event.code),
                        float(event.old_count),
                        f"batch vector {int(event.source)}",
                    )
                )

    def state_dict(self) -> dict[str, Any]:
        """What the next record depends on (the previous codebooks, the gradient EMA) and how far
        the logs go. The logs are not copied: `load_state_dict` cuts them back to that step
        (entries their bounds dropped in the meantime stay dropped)."""
        return {
            "last_step": self.last_step,
            "events": len(self.events),
            "previous": self._previous,
            "last_drift": self.last_drift,
            "grad_ema": self.grad_ema,
            "ema_cluster_sizes": self.ema_cluster_sizes,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.last_step = state["last_step"]
        self._previous = state["previous"]
        self.last_drift = state["last_drift"]
        self.grad_ema = state["grad_ema"]
        self.ema_cluster_sizes = state["ema_cluster_sizes"]
        del self.events[state["events"] :]
        last = -1 if self.last_step is None else self.last_step
        for series in (self._snapshots, self._drift, self._error):
            while series and series[-1][0] > last:
                series.pop()

    def snapshots(self) -> tuple[list[int], list[np.ndarray]]:
        return [step for step, _ in self._snapshots], [book for _, book in self._snapshots]

    def trajectories(self, level: int, dead: np.ndarray | None = None) -> dict[str, Any]:
        """The codes of `level` (0-based) over the snapshots in 2-D: the codes themselves when
        dim = 2, else a PCA fitted on the latest snapshot. `dead` marks codes to draw dashed."""
        steps, books = self.snapshots()
        if not books:
            return {"level": level + 1, "steps": [], "points": [], "dead": [], "projection": None}
        stacked = np.stack([book[level] for book in books])  # [S, K, dim]
        projected = pca_2d(stacked, stacked[-1])  # [S, K, 2]
        return {
            "level": level + 1,
            "steps": steps,
            "points": projected.transpose(1, 0, 2).round(5).tolist(),  # [K, S, 2]
            "dead": (dead if dead is not None else np.zeros(self.num_codes, bool)).tolist(),
            "projection": "identity (dim = 2)"
            if stacked.shape[-1] == 2
            else "PCA of the latest snapshot",
        }

    def drift(self, since: int = 0) -> dict[str, Any]:
        rows = [(step, drift) for step, drift in self._drift if step >= since]
        return {
            "steps": [step for step, _ in rows],
            "drift": [drift.tolist() for _, drift in rows],  # [S, L]
        }

    def series(self, steps: Any) -> dict[str, list[list[float] | None]]:
        """Drift and quantisation error `[S][L]` at `steps` (null where a step has none: the first
        step's drift, steps older than the last 20,000)."""
        steps = [int(step) for step in steps]
        first = min(steps, default=0)
        drift = _since(self._drift, first)
        error = _since(self._error, first)
        return {
            "drift": [_row(drift.get(step)) for step in steps],
            "quantisation_error": [_row(error.get(step)) for step in steps],
        }

    def events_since(self, since: int = 0) -> list[dict[str, Any]]:
        return [asdict(event) for event in self.events if event.step >= since]


def _since(series: deque[tuple[int, np.ndarray]], first: int) -> dict[int, np.ndarray]:
    """The entries of a step-ordered series from step `first` on (read from the newest end, so a
    read of the last few steps costs as many)."""
    rows: dict[int, np.ndarray] = {}
    for step, values in reversed(series):
        if step < first:
            break
        rows[step] = values
    return rows


def _row(values: np.ndarray | None) -> list[float] | None:
    return None if values is None else values.tolist()
