"""DebugController: pause at the boundary, exact steps, resume, stop over pause, no deadlocks."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acc.callbacks import LambdaCallback
from acc.data import MnistData
from acc.debug_controller import DebugController, NotPaused, StepsInterrupted, WatchError
from acc.recipes import get_recipe


class Loop:
    """A training-loop stand-in on its own thread: counts steps, calls the controller like a run."""

    def __init__(self, controller: DebugController, max_steps: int = 10**9) -> None:
        self.controller = controller
        self.steps = 0
        self.max_steps = max_steps
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while self.steps < self.max_steps:
            time.sleep(0.0005)
            self.steps += 1
            self.controller.end_step(self.steps)
            if not self.controller.wait_if_paused():
                return

    def wait_blocked(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.controller.state().blocked:
            assert time.monotonic() < deadline, "loop did not block"
            time.sleep(0.001)


@pytest.fixture
def loop() -> Iterator[Loop]:
    controller = DebugController()
    running = Loop(controller)
    yield running
    controller.request_stop()
    running.thread.join(5)
    assert not running.thread.is_alive()


def test_pause_blocks_at_a_step_boundary_and_holds(loop: Loop) -> None:
    loop.controller.pause()
    loop.wait_blocked()
    frozen = loop.steps
    time.sleep(0.2)
    assert loop.steps == frozen
    assert loop.controller.state().step == frozen and loop.controller.is_paused


def test_step_releases_exactly_n_steps(loop: Loop) -> None:
    loop.controller.pause()
    loop.wait_blocked()
    start = loop.steps
    for expected in range(1, 4):
        loop.controller.step(1)
        deadline = time.monotonic() + 5
        while loop.steps != start + expected or not loop.controller.state().blocked:
            assert time.monotonic() < deadline
            time.sleep(0.001)
        time.sleep(0.05)
        assert loop.steps == start + expected
    loop.controller.step(6)
    time.sleep(0.3)
    loop.wait_blocked()
    assert loop.steps == start + 9


def test_resume_runs_freely_again(loop: Loop) -> None:
    loop.controller.pause()
    loop.wait_blocked()
    before = loop.steps
    loop.controller.resume()
    time.sleep(0.1)
    assert loop.steps > before + 5 and not loop.controller.is_paused


def test_step_while_running_is_an_error(loop: Loop) -> None:
    with pytest.raises(NotPaused):
        loop.controller.step(1)
    loop.controller.pause()
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        loop.controller.step(0)


def test_stop_overrides_pause() -> None:
    controller = DebugController()
    loop = Loop(controller)
    controller.pause()
    loop.wait_blocked()
    controller.request_stop()
    loop.thread.join(5)
    assert not loop.thread.is_alive()
    controller.pause()  # a pause after the stop does not block anything
    assert not controller.is_paused


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(["pause", "resume", "step", "step3", "sleep"]), min_size=1, max_size=25
    )
)
def test_random_control_sequences_never_deadlock(actions: list[str]) -> None:
    controller = DebugController()
    loop = Loop(controller)
    for action in actions:
        if action == "pause":
            controller.pause()
        elif action == "resume":
            controller.resume()
        elif action == "sleep":
            time.sleep(0.002)
        else:
            with contextlib.suppress(NotPaused):  # a step while running is refused
                controller.step(3 if action == "step3" else 1)
    controller.request_stop()
    loop.thread.join(5)
    assert not loop.thread.is_alive(), f"loop hung after {actions}"


def test_watches_record_trajectories_and_keep_unwatched_ones() -> None:
    controller = DebugController()
    controller.set_watch([0, 2], num_features=4)
    weights = torch.randn(4, 10)
    for step in range(1, 4):
        weights[0] += 0.5  # feature 0 moves away from where it started
        controller.record_watches(
            step, weights, {"win_rate": torch.tensor([0.1, 0.2, 0.3, 0.4]) * step}
        )
    controller.set_watch([2, 3], num_features=4)
    controller.record_watches(4, weights, {"win_rate": torch.zeros(4)})
    result = controller.trajectories()
    assert result["watched"] == [2, 3]
    assert set(result["features"]) == {"0", "2", "3"}
    assert result["features"]["0"]["step"] == [1, 2, 3]
    assert result["features"]["2"]["step"] == [1, 2, 3, 4]
    assert result["features"]["3"]["step"] == [4]
    assert result["features"]["2"]["weight_cos_to_init"] == pytest.approx([1.0] * 4)
    assert result["features"]["0"]["weight_cos_to_init"][-1] < 1.0
    assert result["features"]["0"]["win_rate"] == pytest.approx([0.1, 0.2, 0.3])
    assert result["features"]["0"]["som_magnitude"] == [None, None, None]
    assert result["similarity_features"] == [2, 3]
    assert np.allclose(np.diag(result["similarity"]), 1.0)
    controller.clear_trajectories()
    assert controller.trajectories()["features"] == {}


def test_watch_list_is_validated() -> None:
    controller = DebugController()
    with pytest.raises(WatchError, match="at most 8"):
        controller.set_watch(list(range(9)), num_features=64)
    with pytest.raises(WatchError, match="feature 64 does not exist; valid: 0..63"):
        controller.set_watch([64], num_features=64)
    with pytest.raises(WatchError, match="integers"):
        controller.set_watch(["3"], num_features=64)  # type: ignore[list-item]


def test_running_trajectories_are_thinned_at_the_cap() -> None:
    controller = DebugController(max_points=100)
    controller.set_watch([1], num_features=2)
    weights = torch.randn(2, 5)
    for step in range(1, 1001):
        controller.record_watches(step, weights, {})
    steps = controller.trajectories()["features"]["1"]["step"]
    assert len(steps) <= 100 and steps[0] == 1 and steps[-1] > 900
    assert steps == sorted(steps)


def test_controller_drives_a_real_control_run(mnist: MnistData) -> None:
    """Pause/step/resume through Trainer.train's callbacks, without BCL."""
    setup = get_recipe("gradient_gating_l0").build("control", 0, mnist, "cpu")
    controller = DebugController()
    losses: list[float] = []

    def on_step(info: object) -> None:
        step = info.step  # type: ignore[attr-defined]
        losses.append(float(info.loss.detach()))  # type: ignore[attr-defined]
        controller.end_step(step)
        if not controller.wait_if_paused():
            setup.trainer.stop()

    controller.pause()
    worker = threading.Thread(
        target=lambda: setup.trainer.train(40, [LambdaCallback(on_step_end=on_step)])
    )
    worker.start()
    deadline = time.monotonic() + 10
    while not controller.state().blocked:
        assert time.monotonic() < deadline
        time.sleep(0.001)
    assert setup.trainer.global_step == 1  # paused after the first step
    controller.step(3)
    while setup.trainer.global_step < 4 or not controller.state().blocked:
        assert time.monotonic() < deadline
        time.sleep(0.001)
    assert setup.trainer.global_step == 4
    controller.resume()
    worker.join(30)
    assert setup.trainer.global_step == 40 and len(losses) == 40


def test_a_step_future_resolves_at_the_boundary_after_its_steps(loop: Loop) -> None:
    loop.controller.pause()
    loop.wait_blocked()
    frozen = loop.steps
    first, second = loop.controller.step(3), loop.controller.step(2)
    assert first.result(10) == frozen + 3
    assert second.result(10) == frozen + 5
    loop.wait_blocked()
    assert loop.steps == frozen + 5


def test_resume_and_stop_fail_pending_step_futures_at_once(loop: Loop) -> None:
    loop.controller.pause()
    loop.wait_blocked()
    pending = loop.controller.step(10**9)
    loop.controller.resume()
    with pytest.raises(StepsInterrupted, match=r"the run was resumed after \d+ of 1000000000"):
        pending.result(5)
    loop.controller.pause()
    loop.wait_blocked()
    pending = loop.controller.step(10**9)
    loop.controller.request_stop()
    with pytest.raises(StepsInterrupted, match="the run was stopped"):
        pending.result(5)


def test_withdrawing_the_only_waiter_drops_its_grants(loop: Loop) -> None:
    loop.controller.pause()
    loop.wait_blocked()
    pending = loop.controller.step(10**9)
    loop.controller.withdraw(pending)
    assert pending.cancelled()
    loop.wait_blocked()
    assert loop.controller.state().steps_granted == 0
    held = loop.steps
    time.sleep(0.05)
    assert loop.steps == held  # still paused where it stopped


def test_when_blocked_resolves_once_the_loop_waits(loop: Loop) -> None:
    waiter = loop.controller.when_blocked()
    assert not waiter.done()
    loop.controller.pause()
    assert waiter.result(5) is True
    assert loop.controller.when_blocked().result(0) is True  # already blocked: at once


def test_a_pause_after_a_light_step_runs_one_full_step_first() -> None:
    controller = DebugController()
    controller.pause()
    # the step in flight when the pause came was not captured in full: go on, stepping
    assert controller.wait_if_paused(full=False) is True
    assert controller.stepping
    controller.end_step(2)
    blocked = controller.when_blocked()
    worker = threading.Thread(target=controller.wait_if_paused, kwargs={"full": True})
    worker.start()
    assert blocked.result(5) is True  # after the full step it waits
    controller.request_stop()
    worker.join(5)
