"""Lockstep over the ranks of a torch.distributed (DDP) job: every rank pauses after the same
step, Step n moves every rank by exactly n, Stop ends every rank at the same boundary.

Each rank calls `acc.attach(ddp_model, optimizer)` and `dbg.step(loss=loss)` as in one process;
`acc.attach` finds the initialised process group and gives its loop a `Lockstep` as the gate of
its step boundary. Rank 0 (the leader) owns the `DebugController` that the API drives; the other
ranks (followers) obey what the leader decides.

What travels, on a side gloo group of its own (so it works beside NCCL): at each boundary s one
non-blocking all-gather of every rank's report (step, loss, gradient norm before the all-reduce,
batch fingerprint), rank 0's row also carrying the plan for boundary s+1 (run on, hold there,
stop there). It is posted at boundary s and waited for at boundary s+1, a step later, when it has
long finished: a free run adds no blocking collective. Steps rank 0 holds in full also gather
every rank's batch. While held, the leader waits on its controller's condition and sends a
"still held" broadcast every `HEARTBEAT_S`; the followers wait on that broadcast (no core spins)
and see a dead or silent leader within the group's timeout. A collective that fails or times out
raises `RankLost` naming the rank.
"""

from __future__ import annotations

import base64
import math
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.algorithms.ddp_comm_hooks import default_hooks
from torch.nn.parallel import DistributedDataParallel

from acc.change_signal import ChangeSignal
from acc.debug_controller import DebugController
from acc.image_grid import encode_png, make_grid

# How often a held leader tells the followers it is still there: well inside any timeout.
HEARTBEAT_S = 2.0
# How long a rank waits on the side group before it says a rank stopped answering. A killed rank
# is seen at once (its connections close); this bounds a rank that hangs or is far behind.
DEFAULT_RANK_TIMEOUT_S = 300.0
MAX_RANK_HISTORY = 50_000  # steps of per-rank reports kept by rank 0
# A held step's batch travels to rank 0 cut to the samples that fit this many values (4 MB).
MAX_BATCH_VALUES = 1 << 20
BATCH_IMAGES = 64  # samples of a held batch drawn as an image grid

# The plan a broadcast carries: for the next boundary (RUN, HOLD, STOP), or while held.
RUN, HOLD, STOP, STILL_HELD = 0, 1, 2, 3
# One rank's report, a float64 vector: what the per-rank comparison shows.
REPORT_FIELDS = ("step", "loss", "grad_norm", "batch_mean", "batch_std", "batch_size")


class RankLost(RuntimeError):
    """A rank stopped answering (it died, hung, or left the loop): the others stop rather than
    wait forever. `rank` names it (None when the leader cannot tell which of its followers)."""

    def __init__(self, detail: str, rank: int | None) -> None:
        super().__init__(detail)
        self.rank = rank


class NoRankBatch(LookupError):
    """No batch of that rank is held (not a rank, not recorded, or no held step yet)."""


class NotDistributed(RuntimeError):
    """Per-rank data was asked of a loop that runs in one process."""


class LockstepController(DebugController):
    """The leader's controller: the API pauses, steps, resumes and stops it as a single process's,
    but the loop never blocks on it at a boundary the followers were not told to hold at. Each
    boundary passes it once (`pass_boundary` or `hold`), which answers the plan for the next."""

    def _next_plan(self) -> int:
        # Called with the lock held, once the boundary's grant (if any) was consumed.
        paused = not self._running.is_set()
        self._stepping = paused
        if self._stop:
            return STOP
        return HOLD if paused and self._granted == 0 else RUN

    def pass_boundary(self) -> int:
        """A boundary the ranks were told to run through: consume a step grant if one is there
        (never blocks) and answer the plan for the next boundary."""
        with self._wake:
            self._settle_tickets()
            if not self._running.is_set() and self._granted > 0:
                self._granted -= 1
                self._consumed += 1
            return self._next_plan()

    def hold(self, timeout: float) -> int | None:
        """A boundary every rank holds at: wait (on the condition, at most `timeout` s) for a
        grant, Resume or Stop. None: still held; else STOP or the plan for the next boundary."""
        with self._wake:
            self._settle_tickets()
            if not self._blocked:
                self._blocked = True
                for waiter in self._block_waiters:
                    if not waiter.done():  # its caller may have given up on it
                        waiter.set_result(True)
                self._block_waiters = []
                self.changes.bump()
            released = self._wake.wait_for(
                lambda: self._running.is_set() or self._granted > 0 or self._stop, timeout
            )
            if not released:
                return None
            self._blocked = False
            self.changes.bump()
            if self._stop:
                return STOP
            if not self._running.is_set():
                self._granted -= 1
                self._consumed += 1
            return self._next_plan()


class GradNormHook:
    """A DDP communication hook that measures this rank's gradient norm before the all-reduce
    (each bucket's local gradients), then all-reduces as DDP does by default."""

    def __init__(self, model: DistributedDataParallel) -> None:
        self._parts: list[torch.Tensor] = []

        def hook(state: Any, bucket: dist.GradBucket) -> torch.futures.Future[torch.Tensor]:
            # A device tensor: nothing waits for it until the boundary reads the step's norm.
            self._parts.append(bucket.buffer().detach().float().pow(2).sum())
            return default_hooks.allreduce_hook(None, bucket)  # type: ignore[arg-type]

        # DDP checks the annotations as objects; this module's are strings (future import).
        hook.__annotations__ = {
            "state": Any,
            "bucket": dist.GradBucket,
            "return": torch.futures.Future[torch.Tensor],
        }
        model.register_comm_hook(None, hook)

    @classmethod
    def on(cls, model: nn.Module) -> GradNormHook | None:
        """The hook on a DDP `model`; None for another model, or a DDP model that has a comm
        hook of its own already (DDP takes one)."""
        if not isinstance(model, DistributedDataParallel):
            return None
        try:
            return cls(model)
        except RuntimeError:  # "register_comm_hook ... can only be called once"
            return None

    def take(self) -> float:
        """The norm of this rank's gradients over the buckets seen since the last call (NaN
        when none was: a step without backward, or under `no_sync`)."""
        parts, self._parts = self._parts, []
        if not parts:
            return math.nan
        return float(torch.stack(parts).sum().sqrt())


class RankBoard:
    """Rank 0's view of every rank: the newest report of each and a bounded history."""

    def __init__(self, world_size: int) -> None:
        self.world_size = world_size
        self._lock = threading.Lock()
        self._latest = np.full((world_size, len(REPORT_FIELDS)), np.nan)
        self._history: deque[np.ndarray] = deque(maxlen=MAX_RANK_HISTORY)
        self._held_at: int | None = None
        self._batches: tuple[int, list[np.ndarray | None]] | None = None

    def set_batches(self, step: int, batches: list[Any]) -> None:
        """Every rank's batch of the held step `step` (None: the rank gave none)."""
        with self._lock:
            self._batches = (step, list(batches))

    def batch(self, rank: int) -> tuple[int, np.ndarray]:
        """The newest held step's batch of `rank`; `NoRankBatch` when there is none."""
        if isinstance(rank, bool) or not isinstance(rank, int) or not 0 <= rank < self.world_size:
            raise NoRankBatch(f"no rank {rank!r}; the ranks are 0..{self.world_size - 1}")
        with self._lock:
            batches = self._batches
        if batches is None or batches[1][rank] is None:
            raise NoRankBatch(
                f"no batch of rank {rank} is held: a rank's batch (dbg.record_batch) travels "
                "with the steps held in full, while paused or stepping"
            )
        step, arrays = batches
        array = arrays[rank]
        assert array is not None
        return step, array

    def add(self, reports: np.ndarray) -> None:
        """One boundary's reports, `[world_size, REPORT_FIELDS]`."""
        with self._lock:
            self._latest = reports
            self._history.append(reports)

    def hold(self, step: int | None) -> None:
        with self._lock:
            self._held_at = step

    def ranks(self) -> list[dict[str, Any]]:
        """`{"rank", "step", "paused", "loss", "grad_norm", "batch_mean", "batch_std",
        "batch_size"}` for every rank (null: not reported yet, or not finite)."""
        with self._lock:
            latest, held = self._latest.copy(), self._held_at
        rows = []
        for rank in range(self.world_size):
            row: dict[str, Any] = {"rank": rank}
            for name, value in zip(REPORT_FIELDS, latest[rank], strict=True):
                row[name] = float(value) if math.isfinite(value) else None
            row["step"] = int(row["step"]) if row["step"] is not None else 0
            row["batch_size"] = int(row["batch_size"]) if row["batch_size"] is not None else None
            row["paused"] = held is not None and row["step"] == held
            rows.append(row)
        return rows

    def history(self, since: int = 0, limit: int | None = None) -> dict[str, Any]:
        """Per-rank series over the steps >= `since` (the first `limit`): `steps`, and for each
        of loss, grad_norm, batch_mean, batch_std one list per rank."""
        with self._lock:
            kept = [row for row in self._history if row[0, 0] >= since]
        more = limit is not None and len(kept) > limit
        if limit is not None:
            kept = kept[:limit]
        table = np.stack(kept) if kept else np.zeros((0, self.world_size, len(REPORT_FIELDS)))
        series = {
            name: [
                [float(v) if math.isfinite(v) else None for v in table[:, rank, index]]
                for rank in range(self.world_size)
            ]
            for index, name in enumerate(REPORT_FIELDS)
            if name in ("loss", "grad_norm", "batch_mean", "batch_std")
        }
        return {
            "world_size": self.world_size,
            "steps": [int(step) for step in table[:, 0, 0]],
            **series,
            "more": more,
        }


def _first_tensor(batch: torch.Tensor | Sequence[Any] | None) -> torch.Tensor | None:
    """The batch's inputs: the tensor itself, or the first tensor of a (nested) tuple."""
    found: Any = batch
    while isinstance(found, (list, tuple)) and found:
        found = found[0]
    return found if isinstance(found, torch.Tensor) and found.dim() > 0 else None


def _fingerprint(batch: torch.Tensor | Sequence[Any] | None) -> tuple[float, float, float]:
    """Mean, standard deviation and sample count of a batch (its first tensor): equal on two
    ranks only when they trained on the same data."""
    tensor = _first_tensor(batch)
    if tensor is None or tensor.numel() == 0:
        return math.nan, math.nan, math.nan
    std_mean = torch.std_mean(tensor.detach().float(), correction=0)
    std, mean = torch.stack(std_mean).tolist()  # one wait for the device, as reading the loss
    return mean, std, float(tensor.shape[0])


def active_world() -> tuple[int, int] | None:
    """(rank, world size) of the initialised default process group, None when this process is
    not part of one with two or more ranks."""
    if not dist.is_available() or not dist.is_initialized():
        return None
    world = dist.get_world_size()
    return (dist.get_rank(), world) if world > 1 else None


class Lockstep:
    """This rank's side of the lockstep: the gate of its loop's step boundary. Created on every
    rank together (its side group is a collective). `wait(step, scalars)` is called by the loop at
    each boundary; rank 0 reads `ranks()` and `history()`."""

    def __init__(self, model: nn.Module, *, rank_timeout: float = DEFAULT_RANK_TIMEOUT_S) -> None:
        world = active_world()
        if world is None:
            raise NotDistributed("torch.distributed is not initialised with two or more ranks")
        if not rank_timeout > HEARTBEAT_S:
            raise ValueError(f"rank_timeout must be over {HEARTBEAT_S} s, got {rank_timeout!r}")
        self.rank, self.world_size = world
        self.leader = self.rank == 0
        self.rank_timeout = rank_timeout
        # gloo whatever the job's backend: CPU tensors, async ops with a timeout.
        self.group = dist.new_group(backend="gloo", timeout=timedelta(seconds=rank_timeout))
        self.grad_norms = GradNormHook.on(model)
        self.board = RankBoard(self.world_size) if self.leader else None
        self.controller: DebugController | None = None
        self._batch: tuple[float, float, float] = (math.nan, math.nan, math.nan)
        self._plan: int | None = None  # for the next boundary; None before the first
        self._full = False  # the step in flight is held in full on rank 0
        self._batch_tensor: torch.Tensor | None = None
        self._work: dist.Work | None = None  # the all-gather posted at the last boundary
        self._rows: list[torch.Tensor] = []
        self._held = False
        self._stopped = False

    # -- set-up by the loop --------------------------------------------------------------------

    def make_controller(self, changes: ChangeSignal) -> DebugController:
        """The controller of this rank's loop (the leader's is the one the API drives)."""
        self.controller = LockstepController(changes=changes)
        return self.controller

    def note_batch(self, batch: torch.Tensor | Sequence[Any]) -> None:
        """The batch this rank trains on in the current step: its fingerprint goes with the
        step's report (and the batch itself, on a step rank 0 holds in full)."""
        self._batch = _fingerprint(batch)
        self._batch_tensor = _first_tensor(batch)

    @property
    def held(self) -> bool:
        """True while this rank waits at a boundary every rank holds at."""
        return self._held

    # -- the boundary --------------------------------------------------------------------------

    def wait(self, step: int, scalars: Mapping[str, float]) -> bool:
        """The step boundary of this rank: False means stop now (every rank stops here).
        Raises `RankLost` when another rank stopped answering."""
        assert isinstance(self.controller, LockstepController), "make_controller() first"
        if self._stopped:  # every rank stopped here: no more collectives
            return False
        if self._plan is None:  # the first boundary: one blocking broadcast, then a step ahead
            self._plan, self._full = self._exchange(*self._opening_plan(), step)
        else:
            self._settle()
        plan = self._plan
        report = self._report(step, scalars)
        if self._full:  # rank 0 holds this step in full: every rank's batch goes with it
            self._gather_batches(step)
        if plan in (STOP, HOLD):  # every rank's report of this step, now
            self._post(report, plan, full=False)
            self._settle()
            return self._stop() if plan == STOP else self._hold(step)
        if self.leader:
            self._plan = self.controller.pass_boundary()
            self._full = self.controller.stepping
        self._post(report, self._plan, self._full)
        return True

    def _opening_plan(self) -> tuple[int, bool]:
        assert isinstance(self.controller, LockstepController)
        state = self.controller.state()
        if state.stop_requested:
            return STOP, False
        return (HOLD if state.paused else RUN), self.controller.stepping

    def _hold(self, step: int) -> bool:
        controller = self.controller
        assert isinstance(controller, LockstepController)
        self._held = True
        if self.board is not None:
            self.board.hold(step)
        try:
            while True:
                decision = controller.hold(HEARTBEAT_S) if self.leader else None
                message, full = self._exchange(
                    STILL_HELD if decision is None else decision, controller.stepping, step
                )
                if message != STILL_HELD:
                    break
        finally:
            self._held = False
            if self.board is not None:
                self.board.hold(None)
        if message == STOP:
            return self._stop()
        self._plan, self._full = message, full
        return True

    def _stop(self) -> bool:
        # A follower's own controller learns of the stop too (`dbg.should_stop`).
        self._stopped = True
        if self.controller is not None:
            self.controller.request_stop()
        return False

    # -- the collectives -----------------------------------------------------------------------

    def _report(self, step: int, scalars: Mapping[str, float]) -> torch.Tensor:
        grad_norm = self.grad_norms.take() if self.grad_norms is not None else math.nan
        loss = scalars.get("loss", math.nan)
        batch, self._batch = self._batch, (math.nan, math.nan, math.nan)
        return torch.tensor([step, loss, grad_norm, *batch], dtype=torch.float64)

    def _post(self, report: torch.Tensor, plan: int, full: bool) -> None:
        """Post this boundary's one collective: an all-gather of every rank's report, rank 0's
        row also carrying the plan for the next boundary (the other ranks' plan is unused)."""
        row = torch.cat([torch.tensor([plan, full], dtype=torch.float64), report])
        self._rows = [torch.empty_like(row) for _ in range(self.world_size)]
        rows = self._rows
        self._work = self._guard(
            "all-gather",
            lambda: dist.all_gather(rows, row, group=self.group, async_op=True),
        )

    def _settle(self) -> None:
        """Wait for the collective posted at the last boundary (a step ago while running: done
        by now unless a rank is gone or far behind): rank 0's plan, every rank's report."""
        work, self._work = self._work, None
        if work is None:
            return
        self._guard("all-gather", work.wait)
        table = torch.stack(self._rows).numpy()  # [world_size, 2 + REPORT_FIELDS]
        self._plan, self._full = int(table[0, 0]), bool(table[0, 1])
        if self.board is not None:
            self.board.add(table[:, 2:])

    def _exchange(self, plan: int, full: bool, step: int) -> tuple[int, bool]:
        """A blocking broadcast of the leader's `plan` and whether the next step is held in
        full (the followers' own values are overwritten): what every rank now knows."""
        buffer = torch.tensor([plan, full, step])
        self._guard("broadcast", lambda: dist.broadcast(buffer, src=0, group=self.group))
        return int(buffer[0]), bool(buffer[1])

    def _gather_batches(self, step: int) -> None:
        """Every rank's batch of `step` to rank 0 (blocking: only steps held in full, which
        the loop takes one at a time anyway)."""
        tensor, self._batch_tensor = self._batch_tensor, None
        array: np.ndarray | None = None
        if tensor is not None:
            samples = max(1, MAX_BATCH_VALUES // max(1, tensor[0].numel()))
            array = tensor.detach()[:samples].float().cpu().numpy()
        gathered: list[Any] | None = [None] * self.world_size if self.leader else None
        self._guard(
            "gather of batches",
            lambda: dist.gather_object(array, gathered, dst=0, group=self.group),
        )
        if self.board is not None and gathered is not None:
            self.board.set_batches(step, gathered)

    def _guard(self, what: str, call: Any) -> Any:
        try:
            return call()
        except RuntimeError as error:
            self._stopped = True  # the group is broken: no rank goes on with it
            if self.leader:
                others = list(range(1, self.world_size))
                who = f"rank {others[0]}" if len(others) == 1 else f"one of ranks {others}"
                rank: int | None = others[0] if len(others) == 1 else None
            else:
                who, rank = "rank 0", 0
            raise RankLost(
                f"rank {self.rank}: {who} stopped answering (the {what} of the lockstep failed "
                f"or took over {self.rank_timeout:g} s); stopping instead of waiting: {error}",
                rank,
            ) from None

    # -- rank 0's view -------------------------------------------------------------------------

    def ranks(self) -> list[dict[str, Any]]:
        """Every rank's newest report (rank 0 only; followers answer their own rank)."""
        if self.board is None:
            return [{"rank": self.rank, "paused": self._held}]
        return self.board.ranks()

    def batch_view(self, rank: int) -> dict[str, Any]:
        """`rank`'s batch of the newest held step: `step`, `rank`, `shape`, `mean`, `std` and,
        for images (`[N, 1, H, W]` or `[N, H, W]`), the first samples as a PNG grid
        (`image`, base64; min..max of the batch drawn black..white)."""
        if self.board is None:
            raise NotDistributed(f"rank {self.rank} keeps no batches of the others; rank 0 does")
        step, array = self.board.batch(rank)
        image = None
        shown = array[:BATCH_IMAGES]
        if shown.ndim == 3 or (shown.ndim == 4 and shown.shape[1] == 1):
            low, high = float(np.nanmin(shown)), float(np.nanmax(shown))
            scaled = (shown - low) / (high - low) if high > low else np.zeros_like(shown)
            image = base64.b64encode(encode_png(make_grid(scaled, columns=16))).decode("ascii")
        return {
            "step": step,
            "rank": rank,
            "shape": list(array.shape),
            "mean": float(array.mean()),
            "std": float(array.std()),
            "image": image,
        }

    def history(self, since: int = 0, limit: int | None = None) -> dict[str, Any]:
        if self.board is None:
            raise NotDistributed(f"rank {self.rank} keeps no per-rank history; rank 0 does")
        return self.board.history(since, limit)

    def close(self) -> None:
        """Take no more part in the lockstep (the side group is torn down with the job's
        process group). What is in flight completes on its own: every rank posted it."""
        self._stopped = True
