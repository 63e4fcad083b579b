"""FreeRun: a real run that pauses, steps exactly, resumes, stops, fails loudly."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from acc.callbacks import Callback
from acc.data import MnistData
from acc.debug_controller import NotPaused
from acc.free_run import FreeRun, RunFinished, RunStatus
from acc.trainer import StepInfo


def wait_blocked(run: FreeRun, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not run.state().blocked:
        assert time.monotonic() < deadline, "the run did not block"
        time.sleep(0.005)


def test_pause_step_resume_complete(mnist: MnistData) -> None:
    run = FreeRun("gradient_gating_l0", "bcl-med", 120, data=mnist, capture_every=25)
    try:
        run.controller.pause()
        wait_blocked(run)
        paused_at = run.state().step
        assert run.status() == RunStatus.PAUSED
        versions = [run.state().version]
        batches = []
        for expected in range(paused_at + 1, paused_at + 4):
            data = run.step(1)
            assert data.step == expected and run.state().step == expected
            versions.append(run.state().version)  # each step is a change a reader can order by
            assert "encoder_weights" in data.arrays  # stepped steps are captured in full
            batches.append(data.arrays["batch_images"])
        assert not np.array_equal(batches[0], batches[1])
        assert run.step(5).step == paused_at + 8
        run.controller.resume()
        assert run.wait(60)
        state = run.state()
        assert state.status == RunStatus.COMPLETED and state.step == 120
        versions.append(state.version)
        assert versions == sorted(set(versions)), versions  # strictly increasing
        history = run.session.history()
        np.testing.assert_array_equal(history.steps, np.arange(1, 121))  # scalars every step
        assert not np.isnan(history.columns["loss"]).any()
        full = [step for step in range(1, 121) if _is_full(run, step)]
        assert {25, 50, 75, 100}.issubset(full)
        assert set(range(paused_at + 1, paused_at + 9)).issubset(full)
        assert 30 not in full or 30 in range(paused_at - 1, paused_at + 9)
        with pytest.raises(RunFinished):
            run.step(1)
    finally:
        run.close()


def _is_full(run: FreeRun, step: int) -> bool:
    try:
        return "encoder_weights" in run.session.get_step(step).arrays
    except LookupError:
        return False


def test_step_while_running_is_refused_and_stop_while_paused_ends(mnist: MnistData) -> None:
    run = FreeRun("gradient_gating_l0", "control", 100_000, data=mnist)
    try:
        with pytest.raises(NotPaused):
            run.step(1)
        run.controller.pause()
        wait_blocked(run)
        run.stop()
        assert run.wait(30)
        assert run.state().status == RunStatus.STOPPED
    finally:
        run.close()


def test_a_failing_run_ends_failed_with_its_message_and_keeps_its_steps(mnist: MnistData) -> None:
    run = FreeRun("gradient_gating_l0", "bcl-slow", 1000, data=mnist, paused=True)
    try:
        wait_blocked(run)
        run.step(2)
        trainer = run.session._setup.trainer  # the loop is blocked: safe to swap the loss

        def failing(output: object, batch: object) -> torch.Tensor:
            raise RuntimeError("exploded on purpose")

        trainer.loss_fn = failing
        run.controller.resume()
        assert run.wait(30)
        state = run.state()
        assert state.status == RunStatus.FAILED
        assert state.error == "RuntimeError: exploded on purpose"
        assert state.traceback and "failing" in state.traceback
        assert run.session.get_step(2).step == 2  # what was captured is still there
        history = run.session.history()
        # the loop waited at step 3's boundary, so step 3 finished and step 4 raised
        assert history.steps.tolist() == [1, 2, 3]
        assert [(f.step, f.error, f.message) for f in history.failed] == [
            (4, "RuntimeError", "exploded on purpose")
        ]
    finally:
        run.close()


def test_watched_features_accumulate_while_stepping_and_running(mnist: MnistData) -> None:
    run = FreeRun("gradient_gating_l0", "bcl-med", 60, data=mnist, paused=True)
    try:
        wait_blocked(run)
        run.controller.set_watch([0, 15, 31, 47, 63], 64)
        run.step(20)
        points = run.controller.trajectories()["features"]
        assert set(points) == {"0", "15", "31", "47", "63"}
        assert all(len(p["step"]) == 20 for p in points.values())
        assert all(p["win_rate"][0] is not None for p in points.values())
        run.controller.resume()
        assert run.wait(60)
        assert all(len(p["step"]) == 59 for p in run.controller.trajectories()["features"].values())
    finally:
        run.close()


@pytest.mark.parametrize(
    ("steps", "capture_every", "message"),
    [(0, 10, "steps must be"), (10, 0, "capture_every must be"), (2_000_000, 1, "steps must be")],
)
def test_bad_run_arguments_name_the_value(
    mnist: MnistData, steps: int, capture_every: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        FreeRun("gradient_gating_l0", "control", steps, data=mnist, capture_every=capture_every)


def test_the_step_a_run_pauses_at_is_always_fully_captured(mnist: MnistData) -> None:
    run = FreeRun("gradient_gating_l0", "bcl-fast", 100_000, data=mnist, capture_every=10_000)
    try:
        for trial in range(6):
            time.sleep(0.01 * trial)
            assert run.pause()
            state = run.state()
            assert state.last_full_step == state.step, f"trial {trial}: {state}"
            assert "encoder_weights" in run.session.get_step(state.step).arrays
            run.controller.resume()
    finally:
        run.close()


class _Seen(Callback):
    """Records what each step end finds committed, whether the run was paused then, and close."""

    def __init__(self, run: FreeRun) -> None:
        self.run = run
        self.steps: list[tuple[int, int | None, bool]] = []
        self.closed = False

    def on_step_end(self, info: StepInfo) -> None:
        committed = self.run.session.inspector.last_step
        self.steps.append((info.step, committed, self.run.controller.state().blocked))

    def close(self) -> None:
        self.closed = True


def test_watchers_see_each_committed_step_before_the_pause_gate_blocks(mnist: MnistData) -> None:
    made: list[_Seen] = []

    def watcher(run: FreeRun) -> _Seen:
        made.append(_Seen(run))
        return made[-1]

    run = FreeRun(
        "gradient_gating_l0",
        "control",
        30,
        data=mnist,
        paused=True,
        watchers=[watcher],
        run_id="r1",
    )
    (seen,) = made
    try:
        assert run.run_id == "r1"
        assert run.pause()  # blocked at the first full step's boundary
        blocked_at = run.state().step
        run.step(2)
        run.controller.resume()
        assert run.wait(60)
        assert [step for step, _, _ in seen.steps] == list(range(1, 31))
        # each step was committed before the callback ran, and the loop had not blocked yet
        assert all(committed == step and not blocked for step, committed, blocked in seen.steps)
        assert blocked_at in (1, 2)
    finally:
        run.close()
    assert seen.closed  # closed with the run
