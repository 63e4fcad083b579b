"""The capture vocabulary (`StepTensorKey` + metadata) and `StepInspector`, which keeps what each
training step captured: full snapshots of the recent steps, scalars and small vectors of all steps.

Adding a tensor to the inspector = one enum entry with its `KeyMeta` + one `capture()` call; the
dashboard finds how to render it from the generated metadata (`acc codegen`).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

import numpy as np
import torch

from acc.step_events import StepEvents

RenderKind = Literal[
    "image_grid", "labels", "scalar", "bar_chart", "heatmap", "weight_grid", "index_table"
]
# How values map to colour: magnitudes start at 0 (viridis), signed data centres on 0 (diverging),
# unit data and cosine are fixed to 0..1 (negative cosines draw as 0), so two steps compare by eye.
ValueScale = Literal["magnitude", "signed", "unit", "cosine", "index"]


@dataclass(frozen=True)
class KeyMeta:
    """What a key holds: its shape in symbols, how to draw it, whether every step keeps it."""

    shape: tuple[
        str, ...
    ]  # symbols: B batch, D features, k neighbours, P pixels (784), C H W image, L levels, K codes
    render: RenderKind
    history: bool  # kept for every step (scalars, [D] and [B] vectors), not only the recent ones
    description: str
    scale: ValueScale = "magnitude"
    dtype: Literal["float32", "int32"] = "float32"
    group: str = "step"  # where the dashboard lists it: step, bcl, forces, update, similarity
    # The key is the sum of these keys (a missing one counts as zero). The binary frame leaves a
    # derivable key out and the reader adds it back, which keeps a step's frame under 2 MB.
    derived_from: tuple[str, ...] = ()


class StepTensorKey(StrEnum):  # a (str, Enum) whose str() is the wire name
    """Every tensor the inspector can capture. The value is the wire name."""

    # -- the batch --
    BATCH_IMAGES = "batch_images"
    BATCH_LABELS = "batch_labels"
    LOSS = "loss"
    # -- weights around the step --
    ENCODER_WEIGHTS = "encoder_weights"
    ENCODER_WEIGHTS_POST = "encoder_weights_post"
    # -- BCL competition (bcl.md steps 1-11) --
    STRENGTH = "strength"
    NEIGHBORS = "neighbors"
    RANK_SCORE = "rank_score"
    IMAGE_COVERAGE = "image_coverage"
    FEATURE_NOVELTY = "feature_novelty"
    LOCAL_COVERAGE = "local_coverage"
    LOCAL_NOVELTY = "local_novelty"
    WIN_RATE = "win_rate"
    IN_NBR = "in_nbr"
    EFFECTIVE_WIN = "effective_win"
    GRADIENT_WEIGHT = "gradient_weight"
    CONTENDER_WEIGHT = "contender_weight"
    ATTRACTION_WEIGHT = "attraction_weight"
    SOM_WEIGHT_D = "som_weight_d"
    GRAD_MASK = "grad_mask"
    IMAGE_NEED = "image_need"
    # -- BCL forces (steps 12-16) --
    LOCAL_TARGET = "local_target"
    GLOBAL_TARGET = "global_target"
    SOM_TARGETS = "som_targets"
    SOM_DELTA = "som_delta"
    GRAD_RAW = "grad_raw"
    GRAD_MASKED = "grad_masked"
    GRAD_MAGNITUDE = "grad_magnitude"
    SOM_MAGNITUDE = "som_magnitude"
    # -- what the update did --
    OPT_DELTA = "opt_delta"
    COMBINED_DELTA = "combined_delta"
    # -- similarity of features --
    WEIGHT_COSINE = "weight_cosine"
    WEIGHT_COSINE_MEAN = "weight_cosine_mean"
    SOM_TARGET_COSINE = "som_target_cosine"
    SOM_TARGET_COSINE_MEAN = "som_target_cosine_mean"
    GRAD_COSINE = "grad_cosine"
    GRAD_COSINE_MEAN = "grad_cosine_mean"
    # -- vector quantisation (the vqvae recipe) --
    RECONSTRUCTION_LOSS = "reconstruction_loss"
    VQ_COMMITMENT_LOSS = "vq_commitment_loss"
    VQ_CODEBOOK_LOSS = "vq_codebook_loss"
    WASSERSTEIN_LOSS = "wasserstein_loss"
    VQ_PERPLEXITY = "vq_perplexity"
    VQ_USAGE = "vq_usage"
    CODE_COUNTS = "code_counts"

    @property
    def meta(self) -> KeyMeta:
        return KEY_META[self]


_BD = ("B", "D")
_DP = ("D", "P")
_VEC_D = ("D",)
_VEC_B = ("B",)

# fmt: off
KEY_META: dict[StepTensorKey, KeyMeta] = {
    StepTensorKey.BATCH_IMAGES: KeyMeta(("B", "C", "H", "W"), "image_grid", False, "The batch's input images.", "unit"),
    StepTensorKey.BATCH_LABELS: KeyMeta(_VEC_B, "labels", True, "The digit label of each batch image.", "index", "int32"),
    StepTensorKey.LOSS: KeyMeta((), "scalar", True, "Reconstruction loss of the step (L1 by default)."),
    StepTensorKey.ENCODER_WEIGHTS: KeyMeta(_DP, "weight_grid", False, "Encoder weights W at forward time, one 28×28 image per feature.", "signed", group="update"),
    StepTensorKey.ENCODER_WEIGHTS_POST: KeyMeta(_DP, "weight_grid", False, "Encoder weights after optimizer.step(): W + combined_delta.", "signed", group="update", derived_from=("encoder_weights", "combined_delta")),
    StepTensorKey.STRENGTH: KeyMeta(_BD, "heatmap", False, "1. strength |a| of each feature on each image.", group="bcl"),
    StepTensorKey.NEIGHBORS: KeyMeta(("D", "k"), "index_table", False, "2. the k features whose weights are most cosine-similar to each feature.", "index", "int32", "bcl"),
    StepTensorKey.RANK_SCORE: KeyMeta(_BD, "heatmap", False, "3. σ(T·(s − max over neighbours)): does the feature beat its neighbourhood on the image?", "unit", group="bcl"),
    StepTensorKey.IMAGE_COVERAGE: KeyMeta(_VEC_B, "bar_chart", True, "4. how many features claim each image (Σ_f rank_score).", group="bcl"),
    StepTensorKey.FEATURE_NOVELTY: KeyMeta(_VEC_D, "bar_chart", True, "5. how unique each feature's wins are.", "unit", group="bcl"),
    StepTensorKey.LOCAL_COVERAGE: KeyMeta(_BD, "heatmap", False, "6. how many of the feature's neighbours won each image.", group="bcl"),
    StepTensorKey.LOCAL_NOVELTY: KeyMeta(_BD, "heatmap", False, "6. 1 / (local_coverage + 1).", "unit", group="bcl"),
    StepTensorKey.WIN_RATE: KeyMeta(_VEC_D, "bar_chart", True, "7. mean rank_score of each feature over the batch.", "unit", group="bcl"),
    StepTensorKey.IN_NBR: KeyMeta(_BD, "heatmap", False, "8. 1 where the feature is a neighbour of the image's winner.", "unit", group="bcl"),
    StepTensorKey.EFFECTIVE_WIN: KeyMeta(_VEC_D, "bar_chart", True, "9. e = win_rate · feature_novelty.", "unit", group="bcl"),
    StepTensorKey.GRADIENT_WEIGHT: KeyMeta(_VEC_D, "bar_chart", True, "9. share of the gradient force (= e).", "unit", group="bcl"),
    StepTensorKey.CONTENDER_WEIGHT: KeyMeta(_VEC_D, "bar_chart", True, "9. share of the local SOM pull: (1 − e) · win_rate.", "unit", group="bcl"),
    StepTensorKey.ATTRACTION_WEIGHT: KeyMeta(_VEC_D, "bar_chart", True, "9. share of the global SOM pull: (1 − e) · (1 − win_rate).", "unit", group="bcl"),
    StepTensorKey.SOM_WEIGHT_D: KeyMeta(_VEC_D, "bar_chart", True, "9. weight of the SOM force: 1 − e.", "unit", group="bcl"),
    StepTensorKey.GRAD_MASK: KeyMeta(_BD, "heatmap", False, "10. mask on the output gradient: rank_score · novelty · e.", "unit", group="bcl"),
    StepTensorKey.IMAGE_NEED: KeyMeta(_VEC_B, "bar_chart", True, "11. how underserved each image is: 1 / (coverage + 1).", "unit", group="bcl"),
    StepTensorKey.LOCAL_TARGET: KeyMeta(_DP, "weight_grid", False, "12. local SOM target: weighted mean of images the feature contends for.", group="forces"),
    StepTensorKey.GLOBAL_TARGET: KeyMeta(_DP, "weight_grid", False, "13. global SOM target: weighted mean of underserved images.", group="forces"),
    StepTensorKey.SOM_TARGETS: KeyMeta(_DP, "weight_grid", False, "14. blended SOM target each feature is pulled towards.", group="forces"),
    StepTensorKey.SOM_DELTA: KeyMeta(_DP, "weight_grid", False, "15. the SOM update applied in place: η · som_weight_d · (target − W).", "signed", group="forces"),
    StepTensorKey.GRAD_RAW: KeyMeta(_DP, "weight_grid", False, "16. the weight gradient without the mask (Gᵀ X).", "signed", group="forces"),
    StepTensorKey.GRAD_MASKED: KeyMeta(_DP, "weight_grid", False, "16. the weight gradient Adam sees ((G ⊙ M)ᵀ X).", "signed", group="forces"),
    StepTensorKey.GRAD_MAGNITUDE: KeyMeta(_VEC_D, "bar_chart", True, "‖grad_masked_f‖₂ per feature.", group="forces"),
    StepTensorKey.SOM_MAGNITUDE: KeyMeta(_VEC_D, "bar_chart", True, "‖som_delta_f‖₂ per feature.", group="forces"),
    StepTensorKey.OPT_DELTA: KeyMeta(_DP, "weight_grid", False, "What the optimizer did: W_post − (W + som_delta).", "signed", group="update"),
    StepTensorKey.COMBINED_DELTA: KeyMeta(_DP, "weight_grid", False, "The whole update of the step: W_post − W = opt_delta + som_delta.", "signed", group="update", derived_from=("opt_delta", "som_delta")),
    StepTensorKey.WEIGHT_COSINE: KeyMeta(("D", "D"), "heatmap", False, "Cosine similarity of the encoder weight rows.", "cosine", group="similarity"),
    StepTensorKey.WEIGHT_COSINE_MEAN: KeyMeta((), "scalar", True, "Mean off-diagonal cosine of the encoder weights.", "cosine", group="similarity"),
    StepTensorKey.SOM_TARGET_COSINE: KeyMeta(("D", "D"), "heatmap", False, "Cosine similarity of the SOM target rows.", "cosine", group="similarity"),
    StepTensorKey.SOM_TARGET_COSINE_MEAN: KeyMeta((), "scalar", True, "Mean off-diagonal cosine of the SOM targets.", "cosine", group="similarity"),
    StepTensorKey.GRAD_COSINE: KeyMeta(("D", "D"), "heatmap", False, "Cosine similarity of the masked gradient rows.", "cosine", group="similarity"),
    StepTensorKey.GRAD_COSINE_MEAN: KeyMeta((), "scalar", True, "Mean off-diagonal cosine of the masked gradients.", "cosine", group="similarity"),
    StepTensorKey.RECONSTRUCTION_LOSS: KeyMeta((), "scalar", True, "Reconstruction part of the loss (MSE).", group="vq"),
    StepTensorKey.VQ_COMMITMENT_LOSS: KeyMeta((), "scalar", True, "Commitment loss β·‖z − sg(q)‖², summed over levels.", group="vq"),
    StepTensorKey.VQ_CODEBOOK_LOSS: KeyMeta((), "scalar", True, "Codebook loss ‖sg(z) − q‖² (learned codebooks; 0 for EMA).", group="vq"),
    StepTensorKey.WASSERSTEIN_LOSS: KeyMeta((), "scalar", True, "Sinkhorn dead-code loss before its weight (0 when off).", group="vq"),
    StepTensorKey.VQ_PERPLEXITY: KeyMeta(("L",), "bar_chart", True, "Perplexity of each level's codes in the batch.", group="vq"),
    StepTensorKey.VQ_USAGE: KeyMeta(("L",), "bar_chart", True, "Share of each level's codes used in the batch.", "unit", group="vq"),
    StepTensorKey.CODE_COUNTS: KeyMeta(("L", "K"), "heatmap", False, "How often each code of each level was chosen in the batch.", group="vq"),
}
# fmt: on

# Derived keys in an order where each one's sources are already known.
DERIVATION_ORDER: tuple[StepTensorKey, ...] = (
    StepTensorKey.COMBINED_DELTA,
    StepTensorKey.ENCODER_WEIGHTS_POST,
)

DEFAULT_MAX_FULL_SNAPSHOTS = 50
DEFAULT_MAX_SNAPSHOT_BYTES = 256 * 2**20
# Scalars cost 4 bytes a key a step: a million steps of all scalar keys is well under 100 MB.
DEFAULT_MAX_HISTORY_STEPS = 1_000_000
# A [D]/[B] vector step of the bcl recipes is ~4.7 KB: 10,000 steps of them stay under 50 MB.
DEFAULT_MAX_VECTOR_HISTORY = 10_000
# A BCL restore point is ~1.2 MB and a VQ one ~1.5 MB at the default sizes: 256 MiB go back
# about 200 steps (every step while stepping, every full capture of a free run).
DEFAULT_MAX_RESTORE_BYTES = 256 * 2**20
MAX_FAILED_RECORDS = 1_000
MAX_FAILED_MESSAGE = 500


@dataclass(frozen=True)
class CaptureBudget:
    """How much of what a session captured is kept: the memory it may take however long it runs.

    Full snapshots: at most `max_full_snapshots` steps and `max_snapshot_bytes` bytes. History:
    scalars of the last `max_history_steps` steps (4 bytes a key a step), [D]/[B]/[L] vectors of
    the last `max_vector_history` steps (~4.7 KB a step for the bcl recipes). Restore points
    (the state to rewind to, `acc.restore_points`): at most `max_restore_bytes` bytes."""

    max_full_snapshots: int = DEFAULT_MAX_FULL_SNAPSHOTS
    max_snapshot_bytes: int = DEFAULT_MAX_SNAPSHOT_BYTES
    max_history_steps: int = DEFAULT_MAX_HISTORY_STEPS
    max_vector_history: int = DEFAULT_MAX_VECTOR_HISTORY
    max_restore_bytes: int = DEFAULT_MAX_RESTORE_BYTES

    def __post_init__(self) -> None:
        if self.max_full_snapshots < 0 or self.max_snapshot_bytes < 0:
            raise ValueError(
                "snapshot limits must be >= 0, got "
                f"{self.max_full_snapshots} snapshots and {self.max_snapshot_bytes} bytes"
            )
        if self.max_restore_bytes < 0:
            raise ValueError(f"max_restore_bytes must be >= 0, got {self.max_restore_bytes}")
        if self.max_history_steps < 1 or not 1 <= self.max_vector_history <= self.max_history_steps:
            raise ValueError(
                "history limits need 1 <= max_vector_history <= max_history_steps, got "
                f"{self.max_vector_history} and {self.max_history_steps}"
            )


class CaptureError(ValueError):
    """A capture named an unknown key or a tensor of the wrong rank."""


class StepNotRetained(LookupError):
    """The full data of a step is not held: evicted, or never run. Says which steps are held."""

    def __init__(self, step: int, reason: str, retained: tuple[int, int] | None) -> None:
        held = f"steps {retained[0]}..{retained[1]}" if retained else "no steps"
        super().__init__(f"step {step} {reason}; full data is held for {held}")
        self.step = step
        self.reason = reason
        self.retained = retained


class TensorNotHeld(LookupError):
    """A held step has no tensor of that name; says which ones it has."""


@dataclass(frozen=True)
class StepData:
    """Everything captured in one step, as host arrays keyed by wire name."""

    step: int
    arrays: dict[str, np.ndarray]

    def tensor(self, key: str) -> np.ndarray:
        """The array under `key`; `TensorNotHeld` (naming the keys held) when there is none."""
        array = self.arrays.get(key)
        if array is None:
            raise TensorNotHeld(
                f"step {self.step} holds no tensor {key!r}; it holds {', '.join(self.arrays)}"
            )
        return array

    @property
    def nbytes(self) -> int:
        return sum(array.nbytes for array in self.arrays.values())

    def nonfinite(self) -> dict[str, int]:
        """Count of NaN/Inf values per key, for the keys that have any."""
        counts: dict[str, int] = {}
        for key, array in self.arrays.items():
            if array.dtype.kind == "f":
                bad = int(array.size - np.count_nonzero(np.isfinite(array)))
                if bad:
                    counts[key] = bad
        return counts


def to_key(key: StepTensorKey | str) -> StepTensorKey:
    """The enum member for a key or its wire name; an unknown name is a `CaptureError`."""
    try:
        return StepTensorKey(key)
    except ValueError:
        raise CaptureError(
            f"unknown step tensor key {key!r}; known keys: {', '.join(k.value for k in StepTensorKey)}"
        ) from None


def _to_host(
    key: StepTensorKey, value: torch.Tensor | np.ndarray | float | int, copy: bool = True
) -> np.ndarray:
    meta = key.meta
    dtype = np.int32 if meta.dtype == "int32" else np.float32
    if isinstance(value, torch.Tensor) and value.ndim == 0 and value.is_cpu and not meta.shape:
        # A scalar (the loss, a cosine mean: every step of a free run) is read as a number:
        # cheaper than a tensor copy, and a copy all the same.
        return np.array(value.item(), dtype=dtype)
    if isinstance(value, torch.Tensor):
        tensor = value.detach()
        if tensor.device.type != "cpu":
            array = tensor.to("cpu").numpy()  # the transfer is the copy
        elif copy:
            # A CPU tensor shares its storage with the model: copy, so later in-place updates
            # (the optimizer, BCL's SOM step) cannot change what was captured.
            array = tensor.clone().numpy()
        else:
            array = tensor.numpy()  # a fresh result nobody writes to again: no copy needed
    else:
        array = np.array(value) if copy else np.asarray(value)
    if array.ndim != len(meta.shape):
        raise CaptureError(
            f"{key.value} must have rank {len(meta.shape)} (shape [{', '.join(meta.shape)}]), "
            f"got shape {list(array.shape)}"
        )
    # (np.ascontiguousarray would turn a scalar into shape [1].)
    return np.asarray(array, dtype=dtype, order="C")


class _HistoryColumn:
    """One history key's values for the most recent `limit` committed steps (rows), in a growable
    array (no Python lists). Rows are numbered from the inspector's first step on; the column holds
    rows `first_row .. first_row + len - 1` and drops the oldest once it passes its limit."""

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype, first_row: int, limit: int) -> None:
        self.shape = shape
        self.limit = limit
        self.first_row = first_row
        self.length = 0
        self.dropped = False  # rows were dropped for the limit (not only born late)
        self.fill = np.nan if dtype.kind == "f" else -1
        self.values = np.full((min(64, limit), *shape), self.fill, dtype=dtype)

    def append(self, value: np.ndarray | None) -> None:
        """Add the next row (`None`: missing) and drop the oldest rows beyond the limit."""
        if self.length == self.values.shape[0]:
            if self.length < self.limit:
                grown = np.full(
                    (min(self.length * 2, self.limit), *self.shape), self.fill, self.values.dtype
                )
                grown[: self.length] = self.values
                self.values = grown
            else:
                # Drop the oldest eighth in one move, so the copy is paid once per limit/8 rows.
                drop = max(1, self.limit // 8)
                self.values[: self.length - drop] = self.values[drop : self.length]
                self.first_row += drop
                self.length -= drop
                self.dropped = True
        if value is not None and value.shape == self.shape:
            self.values[self.length] = value
        else:  # not captured this step (or a different size): marked missing
            self.values[self.length] = self.fill
        self.length += 1

    @property
    def nbytes(self) -> int:
        return int(self.values.nbytes)


@dataclass(frozen=True)
class FailedStep:
    """A step attempt that raised: which step, and what went wrong."""

    step: int
    error: str
    message: str


@dataclass(frozen=True)
class History:
    """Per-step history from `since` on: step numbers and one array per history key.

    Scalar columns have a row for every step in `steps`. A vector column ([D], [B], [L]) may hold
    only the most recent of them: its `offsets[key]` leading rows are missing (older than the
    vector history window) and its array has `len(steps) - offsets[key]` rows.
    """

    steps: np.ndarray  # [S] int64
    columns: dict[str, np.ndarray]  # key -> [S - offset, *shape]; NaN (-1 for ints) not captured
    offsets: dict[str, int] = field(default_factory=dict)  # key -> leading rows not held
    more: bool = False  # steps after the last one here exist (a `limit` cut the answer)
    vectors_from: int | None = None  # first step whose vector values are held
    failed: tuple[FailedStep, ...] = ()  # failed step attempts numbered >= since

    def aligned(self, key: str) -> np.ndarray | list[np.ndarray | None]:
        """Column `key` with one entry per step: the array itself, or, when leading rows are not
        held, a list with `None` for each of them (for JSON, where they become null)."""
        lead = self.offsets.get(key, 0)
        column = self.columns[key]
        return [None] * lead + list(column) if lead else column


class StepInspector:
    """Collects one step's captures, then archives them.

    `capture()` during a step; `collect()` returns the step's data; `commit()` archives it: every
    scalar history key for the most recent `max_history_steps` steps, every vector history key
    ([D], [B], [L]) for the most recent `max_vector_history` steps, and the full data of the most
    recent steps, at most `max_full_snapshots` of them and at most `max_snapshot_bytes` in all (a
    snapshot larger than the whole budget is not retained). Memory is therefore bounded however
    long a session runs.

    Thread-safe: one thread may capture and commit while others read history and snapshots.
    """

    def __init__(
        self,
        max_full_snapshots: int = DEFAULT_MAX_FULL_SNAPSHOTS,
        max_snapshot_bytes: int = DEFAULT_MAX_SNAPSHOT_BYTES,
        *,
        max_history_steps: int = DEFAULT_MAX_HISTORY_STEPS,
        max_vector_history: int = DEFAULT_MAX_VECTOR_HISTORY,
    ) -> None:
        CaptureBudget(  # checks the limits
            max_full_snapshots, max_snapshot_bytes, max_history_steps, max_vector_history
        )
        self.max_full_snapshots = max_full_snapshots
        self.max_snapshot_bytes = max_snapshot_bytes
        self.max_history_steps = max_history_steps
        self.max_vector_history = max_vector_history
        self._current: dict[str, np.ndarray] = {}
        self._snapshots: OrderedDict[int, StepData] = OrderedDict()
        self._snapshot_bytes = 0
        self._lock = threading.Lock()
        # What happened to the loop at a step besides training it (live edits, breakpoints).
        self.events = StepEvents()
        self._reset_history()

    @classmethod
    def within(cls, budget: CaptureBudget) -> StepInspector:
        """An inspector that keeps what `budget` allows."""
        return cls(
            budget.max_full_snapshots,
            budget.max_snapshot_bytes,
            max_history_steps=budget.max_history_steps,
            max_vector_history=budget.max_vector_history,
        )

    def _reset_history(self) -> None:
        self._steps = _HistoryColumn((), np.dtype(np.int64), 0, self.max_history_steps)
        self._count = 0  # steps committed since the start (or the last clear)
        self._last_step: int | None = None
        self._columns: dict[str, _HistoryColumn] = {}
        self._failed: deque[FailedStep] = deque(maxlen=MAX_FAILED_RECORDS)
        # The first step and key (in capture order) that held a NaN or an infinity, and how many.
        self.first_nonfinite: dict[str, int | str] | None = None

    # -- during a step ---------------------------------------------------------------------------

    def capture(
        self,
        key: StepTensorKey | str,
        value: torch.Tensor | np.ndarray | float,
        *,
        fresh: bool = False,
    ) -> None:
        """Store `value` on the host under `key` for the current step. It is copied unless
        `fresh` says it is a newly computed result that nothing will modify in place."""
        member = to_key(key)
        self._current[member.value] = _to_host(member, value, copy=not fresh)

    def collect(self, step: int) -> StepData:
        """The current step's captures (not yet archived)."""
        return StepData(step, dict(self._current))

    def commit(self, step: int, full: bool = True) -> StepData:
        """Archive the current captures as step `step` and start an empty next step. A step that
        captured only its history keys (`full=False`, a free run between full captures) goes to
        the history but does not take a full-snapshot slot."""
        if self._last_step is not None and step <= self._last_step:
            raise ValueError(f"step {step} is not after the last committed step {self._last_step}")
        data = self.collect(step)
        self._current = {}
        if self.first_nonfinite is None:
            self._find_nonfinite(data)
        with self._lock:
            self._append_history(data)
            if full:
                self._retain(data)
        return data

    def _find_nonfinite(self, data: StepData) -> None:
        for key, array in data.arrays.items():
            if array.dtype.kind != "f":
                continue
            if array.ndim == 0:  # most keys of a light step: no numpy reduction needed
                if math.isfinite(array.item()):
                    continue
            # A float64 sum is cheap and non-finite whenever any element is (float32 values
            # cannot overflow it); only then are the bad elements counted.
            elif np.isfinite(array.sum(dtype=np.float64)):
                continue
            count = int(array.size - np.count_nonzero(np.isfinite(array)))
            self.first_nonfinite = {"step": data.step, "key": key, "count": count}
            return

    def discard(self) -> None:
        """Drop the current captures without archiving them (a step that failed half-way)."""
        self._current = {}

    def mark_failed(self, step: int, error: BaseException) -> FailedStep:
        """Drop the half-captured step and record that the attempt at `step` raised `error`; the
        record shows in `history()` (the most recent `MAX_FAILED_RECORDS` are kept)."""
        self.discard()
        record = FailedStep(step, type(error).__name__, str(error)[:MAX_FAILED_MESSAGE])
        with self._lock:
            self._failed.append(record)
        return record

    # -- afterwards --------------------------------------------------------------------------------

    @property
    def step_count(self) -> int:
        """Steps committed so far (including those whose history was since dropped)."""
        return self._count

    @property
    def last_step(self) -> int | None:
        return self._last_step

    @property
    def failed_steps(self) -> tuple[FailedStep, ...]:
        with self._lock:
            return tuple(self._failed)

    @property
    def retained_range(self) -> tuple[int, int] | None:
        """First and last step whose full data is held, or None."""
        with self._lock:
            return self._retained_range()

    def _retained_range(self) -> tuple[int, int] | None:
        if not self._snapshots:
            return None
        return next(iter(self._snapshots)), next(reversed(self._snapshots))

    @property
    def snapshot_bytes(self) -> int:
        return self._snapshot_bytes

    @property
    def history_bytes(self) -> int:
        """Bytes the history arrays take now (their capacity, not only the filled rows)."""
        with self._lock:
            return self._steps.nbytes + sum(c.nbytes for c in self._columns.values())

    def history(
        self,
        since: int = 0,
        *,
        keys: Iterable[str] | None = None,
        limit: int | None = None,
    ) -> History:
        """History of the held steps numbered >= `since`: at most `limit` steps (`more` says
        whether later ones exist), only the columns named in `keys` when given."""
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        wanted = None if keys is None else set(keys)
        with self._lock:
            held = self._steps.values[: self._steps.length]
            start = int(np.searchsorted(held, since, side="left"))
            end = held.shape[0] if limit is None else min(held.shape[0], start + limit)
            steps = held[start:end].copy()
            first, stop = self._steps.first_row + start, self._steps.first_row + end
            columns: dict[str, np.ndarray] = {}
            offsets: dict[str, int] = {}
            vectors_from_row: int | None = None
            for key, column in self._columns.items():
                if column.shape and column.dropped:
                    vectors_from_row = max(vectors_from_row or 0, column.first_row)
                if wanted is not None and key not in wanted:
                    continue
                # Rows before the column's first held row (born later, or dropped) are missing.
                lo = min(max(first, column.first_row), stop)
                lead = lo - first
                rows = column.values[lo - column.first_row : max(stop - column.first_row, 0)]
                if column.shape:
                    columns[key] = rows.copy()
                    offsets[key] = lead
                else:  # scalars come padded to the full length: every consumer indexes by step
                    padded = np.full(stop - first, column.fill, dtype=column.values.dtype)
                    padded[lead:] = rows
                    columns[key] = padded
            last = int(steps[-1]) if steps.size else None
            failed = tuple(
                record
                for record in self._failed
                if record.step >= since and (end == held.shape[0] or record.step <= (last or 0))
            )
            vectors_from = (
                None
                if vectors_from_row is None
                else int(held[max(vectors_from_row - self._steps.first_row, 0)])
            )
        return History(
            steps,
            columns,
            offsets={key: lead for key, lead in offsets.items() if lead},
            more=end < held.shape[0],
            vectors_from=vectors_from,
            failed=failed,
        )

    def get_step(self, step: int) -> StepData:
        """The full data of a committed step; `StepNotRetained` if it is not held."""
        with self._lock:
            data = self._snapshots.get(step)
            if data is not None:
                return data
            ran = self._last_step is not None and step <= self._last_step and self._ran(step)
            reason = "was evicted from the full-data buffer" if ran else "has not run"
            raise StepNotRetained(step, reason, self._retained_range())

    def _ran(self, step: int) -> bool:
        held = self._steps.values[: self._steps.length]
        if held.size == 0 or step < int(held[0]):
            return self._count > held.size  # older than the history window: it ran if any dropped
        index = int(np.searchsorted(held, step))
        return index < held.size and int(held[index]) == step

    def split_after(self, step: int) -> tuple[History, dict[int, StepData]]:
        """Take the steps after `step` out (a rewind to `step`): returns their history (every
        column) and their held full data, and the inspector continues as if `step` were the last
        step committed. Failed attempts after `step` are forgotten, and the first non-finite
        value too if it came after `step`."""
        later = self.history(step + 1)
        with self._lock:
            self._current = {}
            held = self._steps.values[: self._steps.length]
            index = int(np.searchsorted(held, step, side="right"))
            cut = self._steps.first_row + index  # the row the next commit gets
            for column in (self._steps, *self._columns.values()):
                column.length = max(0, min(column.length, cut - column.first_row))
                column.first_row = min(column.first_row, cut)
            self._count = cut
            self._last_step = int(held[index - 1]) if index else (step if cut else None)
            taken = {held: data for held, data in self._snapshots.items() if held > step}
            for held_step, data in taken.items():
                del self._snapshots[held_step]
                self._snapshot_bytes -= data.nbytes
            self._failed = deque(
                (record for record in self._failed if record.step <= step),
                maxlen=MAX_FAILED_RECORDS,
            )
            if self.first_nonfinite is not None and int(self.first_nonfinite["step"]) > step:
                self.first_nonfinite = None
        return later, taken

    def clear(self) -> None:
        """Forget everything: current captures, snapshots and history."""
        with self._lock:
            self._current = {}
            self._snapshots.clear()
            self._snapshot_bytes = 0
            self._reset_history()
        self.events.clear()

    # -- internals ---------------------------------------------------------------------------------

    def _append_history(self, data: StepData) -> None:
        row = self._count
        for key, array in data.arrays.items():
            if key not in self._columns and self._keeps_history(key, array):
                # A column born late holds no rows before `row` (they read as missing).
                limit = self.max_vector_history if array.ndim else self.max_history_steps
                self._columns[key] = _HistoryColumn(array.shape, array.dtype, row, limit)
        self._steps.append(np.asarray(data.step, dtype=np.int64))
        for key, column in self._columns.items():
            column.append(data.arrays.get(key))
        self._count += 1
        self._last_step = data.step

    def _keeps_history(self, key: str, array: np.ndarray) -> bool:
        """Whether every step keeps `key` in the history (its metadata says; a store of other
        names overrides this)."""
        return KEY_META[StepTensorKey(key)].history

    def _retain(self, data: StepData) -> None:
        size = data.nbytes
        if self.max_full_snapshots == 0 or size > self.max_snapshot_bytes:
            return
        self._snapshots[data.step] = data
        self._snapshot_bytes += size
        while len(self._snapshots) > self.max_full_snapshots or (
            self._snapshot_bytes > self.max_snapshot_bytes
        ):
            _, evicted = self._snapshots.popitem(last=False)
            self._snapshot_bytes -= evicted.nbytes
