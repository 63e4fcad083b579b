"""`RunRecorder`: the callback that records a training loop into a `RunArchive`.

Any loop that calls `Callback` hooks is recorded by adding one recorder to its callbacks:

    with RunArchive("acc-runs") as archive:
        recorder = RunRecorder(archive, recipe="gradient_gating_l0", condition="bcl-med")
        trainer.train(500, callbacks=[capture, recorder])
        recorder.finish(RunStatus.COMPLETED)

At each `on_step_end` it enqueues the step's scalars (by default the loss and its named parts,
as detached tensors the writer thread turns into numbers, so the training thread never waits
for the device); a step that raises is recorded as a failure event.
"""

from __future__ import annotations

import threading
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from acc.archive.store import RunArchive
from acc.archive.vocabulary import RunKind, RunStatus
from acc.callbacks import Callback
from acc.step_inspector import KEY_META, StepData, StepTensorKey
from acc.trainer import StepInfo

ScalarSource = Callable[[StepInfo], Mapping[str, Any]]


def loss_scalars(info: StepInfo) -> dict[str, Any]:
    """The loss and its named parts, tensors detached (the writer makes them numbers); a loop
    that hands over plain numbers (an attached loop) gives them as they are."""
    return {
        name: value.detach() if isinstance(value, torch.Tensor) else value
        for name, value in info.losses.items()
    }


def committed_scalars(data: StepData | None) -> dict[str, np.ndarray]:
    """The scalar history keys of a committed step (0-dim host arrays)."""
    if data is None:
        return {}
    return {
        key: array for key, array in data.arrays.items() if array.ndim == 0 and _is_history(key)
    }


def _is_history(key: str) -> bool:
    try:
        return KEY_META[StepTensorKey(key)].history
    except ValueError:
        return False


class RunRecorder(Callback):
    """Records one run: its start (at the first hook, or `start()`), each step's scalars, failures
    and pause/resume events, kept tensors, and how it ended (`finish`). Thread-safe: the loop's
    thread records steps while another may add events or finish it."""

    def __init__(
        self,
        archive: RunArchive,
        *,
        recipe: str,
        condition: str = "",
        kind: RunKind | str = RunKind.CLI,
        options: Mapping[str, Any] | None = None,
        seed: int | None = None,
        run_id: str | None = None,
        scalars: ScalarSource = loss_scalars,
    ) -> None:
        self.archive = archive
        self.run_id = run_id or uuid.uuid4().hex[:12]
        self.recipe = recipe
        self.condition = condition
        self.kind = str(kind)
        self.options = dict(options or {})
        self.seed = seed
        self.scalars = scalars
        self._lock = threading.Lock()
        self._started = False
        self._finished = False
        self.last_step: int | None = None

    def start(self, started_at: float | None = None) -> None:
        """Record the run's start (once; later calls do nothing)."""
        with self._lock:
            if self._started:
                return
            self._started = True
        self.archive.writer.begin(
            self.run_id,
            kind=self.kind,
            recipe=self.recipe,
            condition=self.condition,
            options=self.options,
            seed=self.seed,
            started_at=started_at,
        )

    # -- the loop's hooks ------------------------------------------------------------------------

    def on_train_start(self) -> None:
        self.start()

    def on_step_end(self, info: StepInfo) -> None:
        self.record_step(info.step, self.scalars(info))

    def on_exception(self, step: int, error: BaseException) -> None:
        if isinstance(error, Exception):
            self.record_failure(step, error)

    # -- direct recording ------------------------------------------------------------------------

    def record_step(self, step: int, scalars: Mapping[str, Any], wall: float | None = None) -> None:
        """One finished step's scalars (numbers, 0-dim arrays or scalar tensors)."""
        self.start()
        self.last_step = step
        self.archive.writer.step(self.run_id, step, dict(scalars), wall)

    def record_event(self, kind: str, step: int | None = None, **detail: Any) -> None:
        """A pause, a resume, an edit, a breakpoint, a revival: anything worth a line."""
        self.start()
        self.archive.writer.event(self.run_id, step, kind, **detail)

    def record_failure(self, step: int, error: BaseException) -> None:
        frames = traceback.format_exception(type(error), error, error.__traceback__, limit=-3)
        self.record_event(
            "failure",
            step,
            error=type(error).__name__,
            message=str(error)[:500],
            traceback="".join(frames)[-2000:],
        )

    def record_tensors(self, step: int, arrays: Mapping[str, np.ndarray]) -> None:
        """Keep a step's full data (written as a safetensors file off this thread)."""
        self.start()
        self.archive.writer.tensors(self.run_id, step, dict(arrays))

    def finish(
        self, status: RunStatus | str = RunStatus.COMPLETED, error: str | None = None
    ) -> None:
        """Record how the run ended (once)."""
        self.start()
        with self._lock:
            if self._finished:
                return
            self._finished = True
        self.archive.writer.end(self.run_id, RunStatus(status), error)

    @property
    def finished(self) -> bool:
        return self._finished

    def close(self) -> None:
        """A run closed without `finish` ended normally."""
        if self._started and not self._finished:
            self.finish(RunStatus.COMPLETED)


@contextmanager
def recording(
    runs_dir: Path | str,
    *,
    recipe: str,
    condition: str = "",
    kind: RunKind | str = RunKind.CLI,
    options: Mapping[str, Any] | None = None,
    seed: int | None = None,
) -> Iterator[RunRecorder]:
    """Record one loop into the archive at `runs_dir` (for `acc run` and attached loops): yields
    the recorder to add to the loop's callbacks; the run ends `completed`, `stopped` (Ctrl-C)
    or `failed` with the error, and everything is written before the block is left. A damaged
    runs directory records nothing and does not stop the loop (`archive.problem` says why)."""
    archive = RunArchive(runs_dir)
    recorder = RunRecorder(
        archive, recipe=recipe, condition=condition, kind=kind, options=options, seed=seed
    )
    try:
        recorder.start()
        yield recorder
    except KeyboardInterrupt:
        recorder.finish(RunStatus.STOPPED)
        raise
    except BaseException as error:
        recorder.finish(RunStatus.FAILED, f"{type(error).__name__}: {error}")
        raise
    else:
        recorder.finish(RunStatus.COMPLETED)
    finally:
        archive.close()
