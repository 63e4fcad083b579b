"""Codebook health: the metrics of docs/codebook.md as plain functions, and a rolling window per
level that turns per-batch code counts into utilisation, perplexity, dead codes and warnings, and
keeps each step's codebook drift and quantisation error with their window means.

Notation: K codes per level, n_k the count of code k in the window, N = Σ n_k, p_k = n_k / N.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_WINDOW = 100
DEFAULT_DEAD_FRACTION = 0.01
LOW_UTILISATION = 0.30
WARMUP_STEPS = 100

RULES = {
    "perplexity": "exp(−Σ p_k log p_k), natural log, 0·log 0 = 0; from 1 to K",
    "normalised_perplexity": "perplexity / K",
    "utilisation": "#{k : n_k > 0} / K over the rolling window",
    "dead_codes": "#{k : n_k < dead_fraction · N / K} over the rolling window",
    "codebook_drift": "‖C_t − C_{t−1}‖_F / √(K·dim), C_t the level's [K, dim] codebook after step "
    "t: the RMS move of a code coordinate in one step (latent units); none at step 1",
    "codebook_drift_mean": "mean of codebook_drift over the steps of the rolling window",
    "quantisation_error": "mean over the batch's vectors z of min_k ‖z − c_k‖² (squared latent "
    "units), z the level's input (level l > 1: the residual left by levels 1..l−1), c_k its "
    "codes before the step's update",
    "quantisation_error_mean": "mean of quantisation_error over the batches of the rolling window",
}


def perplexity(counts: np.ndarray) -> float:
    """exp(−Σ p log p) of a count vector (0 for an empty one)."""
    total = counts.sum()
    if total <= 0:
        return 0.0
    p = counts[counts > 0] / total
    return float(np.exp(-(p * np.log(p)).sum()))


def utilisation(counts: np.ndarray) -> float:
    """Share of codes used at least once."""
    return float(np.count_nonzero(counts) / counts.size)


def dead_code_mask(counts: np.ndarray, dead_fraction: float = DEFAULT_DEAD_FRACTION) -> np.ndarray:
    """Codes used less than `dead_fraction` of a uniform share N / K."""
    total = counts.sum()
    return counts < dead_fraction * total / counts.size


def codebook_drift(current: np.ndarray, previous: np.ndarray) -> float:
    """‖C_t − C_{t−1}‖_F / √(K·dim) of two `[K, dim]` codebooks."""
    return float(np.linalg.norm(current - previous) / np.sqrt(current.size))


def quantisation_error(vectors: np.ndarray, codebook: np.ndarray) -> float:
    """Mean over vectors `[M, dim]` of the squared distance to the nearest code."""
    distances = (
        (vectors**2).sum(1)[:, None] - 2 * vectors @ codebook.T + (codebook**2).sum(1)[None, :]
    )
    return float(np.maximum(distances.min(1), 0).mean())


def transition_counts(sequences: np.ndarray, num_codes: int) -> np.ndarray:
    """Counts of code_t → code_{t+1} along the last axis of `[B, T]`, never across samples."""
    sequences = np.asarray(sequences).reshape(sequences.shape[0], -1)
    counts = np.zeros((num_codes, num_codes), dtype=np.int64)
    np.add.at(counts, (sequences[:, :-1].ravel(), sequences[:, 1:].ravel()), 1)
    return counts


def row_normalise(counts: np.ndarray) -> np.ndarray:
    """Each row divided by its sum (rows without transitions stay zero)."""
    sums = counts.sum(1, keepdims=True)
    return np.divide(counts, sums, out=np.zeros(counts.shape, dtype=np.float64), where=sums > 0)


def transition_entropy(counts: np.ndarray) -> float:
    """Mean entropy (nats) of the rows of a transition count matrix, weighted by row counts."""
    sums = counts.sum(1)
    total = sums.sum()
    if total == 0:
        return 0.0
    probabilities = row_normalise(counts)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(probabilities > 0, probabilities * np.log(probabilities), 0.0)
    return float((-(terms.sum(1)) * sums).sum() / total)


def run_lengths(sequences: np.ndarray) -> np.ndarray:
    """Lengths of runs of identical consecutive codes in each row of `[B, T]`; a run never
    continues from one sample into the next."""
    sequences = np.asarray(sequences).reshape(sequences.shape[0], -1)
    lengths: list[np.ndarray] = []
    for row in sequences:
        if row.size == 0:
            continue
        boundaries = np.flatnonzero(np.diff(row) != 0) + 1
        edges = np.concatenate([[0], boundaries, [row.size]])
        lengths.append(np.diff(edges))
    return np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int64)


def run_length_stats(lengths: np.ndarray) -> dict[str, float]:
    if lengths.size == 0:
        return {"count": 0, "mean": 0.0, "median": 0.0, "max": 0.0}
    return {
        "count": int(lengths.size),
        "mean": float(lengths.mean()),
        "median": float(np.median(lengths)),
        "max": float(lengths.max()),
    }


@dataclass(frozen=True)
class LevelHealth:
    """One level's health over the rolling window (and the last batch)."""

    level: int
    utilisation: float
    perplexity: float  # over the window
    normalised_perplexity: float
    batch_perplexity: float
    dead_codes: int
    dead_rising: bool  # more dead codes now than one window ago
    counts: list[int]  # the usage histogram over the window
    codebook_drift: float | None  # the last step's (None before a step has a previous codebook)
    codebook_drift_mean: float | None  # over the window's steps
    quantisation_error: float | None  # the last batch's
    quantisation_error_mean: float | None  # over the window's batches

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class CodebookHealth:
    """Rolling-window health of every level of a (residual) codebook.

    `update(step, counts, drift, quantisation_error)` takes one batch's `[L, K]` code counts and,
    when known, the step's `[L]` codebook drift and the batch's `[L]` quantisation error. The
    window holds the last `window` batches (its sum is kept as it slides, so an update costs
    O(L·K)); drift and error are kept for the same steps and averaged when read.
    """

    def __init__(
        self,
        num_levels: int,
        num_codes: int,
        window: int = DEFAULT_WINDOW,
        dead_fraction: float = DEFAULT_DEAD_FRACTION,
        low_utilisation: float = LOW_UTILISATION,
        warmup_steps: int = WARMUP_STEPS,
    ) -> None:
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.num_levels = num_levels
        self.num_codes = num_codes
        self.window = window
        self.dead_fraction = dead_fraction
        self.low_utilisation = low_utilisation
        self.warmup_steps = warmup_steps
        self._batches: deque[np.ndarray] = deque()
        self._sum = np.zeros((num_levels, num_codes), dtype=np.int64)
        self._dead_history: deque[np.ndarray] = deque(maxlen=window + 1)
        self._batch_perplexity = np.zeros(num_levels)
        # (step, [L] values) of the window's steps: drift from step 2 on, error when captured
        self._drift: deque[tuple[int, np.ndarray]] = deque()
        self._error: deque[tuple[int, np.ndarray]] = deque()
        self.step = 0

    def update(
        self,
        step: int,
        counts: np.ndarray,
        drift: np.ndarray | None = None,
        quantisation_error: np.ndarray | None = None,
    ) -> None:
        counts = np.asarray(counts, dtype=np.int64).reshape(self.num_levels, self.num_codes)
        self._batches.append(counts)
        self._sum += counts
        if len(self._batches) > self.window:
            self._sum -= self._batches.popleft()
        for series, values in ((self._drift, drift), (self._error, quantisation_error)):
            if values is not None:
                series.append((step, np.asarray(values, dtype=np.float64).reshape(-1)))
            # the window's steps: this one and the `window - 1` before it
            while series and series[0][0] <= step - self.window:
                series.popleft()
        self._batch_perplexity = np.array([perplexity(row) for row in counts])
        self._dead_history.append(
            np.array([dead_code_mask(row, self.dead_fraction).sum() for row in self._sum])
        )
        self.step = step

    def state_dict(self) -> dict[str, Any]:
        """The window (at most `window` steps of counts, drift and error) and the last step."""
        return {
            "batches": self._batches,
            "sum": self._sum,
            "dead_history": self._dead_history,
            "batch_perplexity": self._batch_perplexity,
            "drift": self._drift,
            "error": self._error,
            "step": self.step,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._batches = state["batches"]
        self._sum = state["sum"]
        self._dead_history = state["dead_history"]
        self._batch_perplexity = state["batch_perplexity"]
        self._drift = state["drift"]
        self._error = state["error"]
        self.step = int(state["step"])

    def window_counts(self) -> np.ndarray:
        """`[L, K]` code counts over the window."""
        return self._sum.copy()

    def _last_and_mean(
        self, series: deque[tuple[int, np.ndarray]]
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The `[L]` values of the current step (None when it has none) and their window mean."""
        if not series:
            return None, None
        last = series[-1][1] if series[-1][0] == self.step else None
        return last, np.stack([values for _, values in series]).mean(0)

    def levels(self) -> list[LevelHealth]:
        drift, drift_mean = self._last_and_mean(self._drift)
        error, error_mean = self._last_and_mean(self._error)

        def pick(values: np.ndarray | None, level: int) -> float | None:
            return None if values is None else float(values[level])

        result = []
        for level in range(self.num_levels):
            counts = self._sum[level]
            dead = int(dead_code_mask(counts, self.dead_fraction).sum()) if counts.sum() else 0
            oldest = self._dead_history[0][level] if self._dead_history else dead
            value = perplexity(counts)
            result.append(
                LevelHealth(
                    level=level + 1,
                    utilisation=utilisation(counts),
                    perplexity=value,
                    normalised_perplexity=value / self.num_codes,
                    batch_perplexity=float(self._batch_perplexity[level]),
                    dead_codes=dead,
                    dead_rising=len(self._dead_history) > 1 and dead > int(oldest),
                    counts=counts.tolist(),
                    codebook_drift=pick(drift, level),
                    codebook_drift_mean=pick(drift_mean, level),
                    quantisation_error=pick(error, level),
                    quantisation_error_mean=pick(error_mean, level),
                )
            )
        return result

    def warnings(self) -> list[str]:
        """Utilisation under the threshold (after the warm-up) and levels whose dead count rose."""
        messages = []
        for health in self.levels():
            if self.step >= self.warmup_steps and health.utilisation < self.low_utilisation:
                messages.append(
                    f"level {health.level}: utilisation {health.utilisation:.1%} is below "
                    f"{self.low_utilisation:.0%} (last {len(self._batches)} batches)"
                )
            if health.dead_rising:
                messages.append(
                    f"level {health.level}: dead codes rose to {health.dead_codes} "
                    f"over the last {len(self._dead_history) - 1} batches"
                )
        return messages

    def report(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "window": self.window,
            "batches_in_window": len(self._batches),
            "dead_fraction": self.dead_fraction,
            "low_utilisation": self.low_utilisation,
            "rules": RULES,
            "levels": [health.to_dict() for health in self.levels()],
            "warnings": self.warnings(),
        }
