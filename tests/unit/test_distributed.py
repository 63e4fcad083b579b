"""The lockstep's decisions without processes: rank 0's controller answers, at each boundary, the
plan every rank follows at the next one; rank 0's board keeps every rank's reports. (The ranks
themselves, over gloo: tests/api/test_ddp_lockstep.py.)"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from acc.debug_controller import StepsInterrupted
from acc.distributed import HOLD, REPORT_FIELDS, RUN, STOP, LockstepController, RankBoard

QUICK_S = 0.01  # a hold that nothing releases answers "still held" after this


def boundary(controller: LockstepController, step: int) -> int:
    controller.end_step(step)
    return controller.pass_boundary()


def test_running_freely_plans_run_and_a_pause_plans_a_hold_one_step_ahead() -> None:
    controller = LockstepController()
    assert boundary(controller, 1) == RUN
    assert not controller.stepping
    controller.pause()
    assert boundary(controller, 2) == HOLD  # every rank runs step 3, then holds
    assert controller.stepping  # so step 3 is captured in full
    assert not controller.state().blocked  # it never blocks where the others were not told to


def test_step_three_from_a_hold_runs_exactly_three_steps() -> None:
    controller = LockstepController()
    controller.pause()
    controller.end_step(5)
    assert controller.hold(QUICK_S) is None  # nothing granted: still held
    assert controller.state().blocked
    ticket = controller.step(3)
    assert controller.hold(QUICK_S) == RUN  # step 6 runs
    assert boundary(controller, 6) == RUN  # step 7 runs
    assert boundary(controller, 7) == HOLD  # step 8 runs, then every rank holds
    assert not ticket.done()
    controller.end_step(8)
    assert controller.hold(QUICK_S) is None
    assert ticket.result(0) == 8


def test_a_hold_waits_on_the_condition_until_released() -> None:
    controller = LockstepController()
    controller.pause()
    answers: list[int | None] = []
    waiting = threading.Thread(target=lambda: answers.append(controller.hold(30.0)))
    waiting.start()
    assert controller.when_blocked().result(30.0) is True
    controller.resume()
    waiting.join(30.0)
    assert answers == [RUN]
    assert not controller.state().blocked


def test_stop_ends_a_hold_and_a_free_run() -> None:
    held = LockstepController()
    held.pause()
    ticket = held.step(2)
    held.request_stop()
    with pytest.raises(StepsInterrupted):
        ticket.result(0)
    assert held.hold(QUICK_S) == STOP
    running = LockstepController()
    running.request_stop()
    assert boundary(running, 1) == STOP


def _reports(step: int, losses: list[float]) -> np.ndarray:
    rows = np.full((len(losses), len(REPORT_FIELDS)), np.nan)
    rows[:, 0] = step
    rows[:, 1] = losses
    return rows


def test_the_board_keeps_each_ranks_newest_report_and_series() -> None:
    board = RankBoard(2)
    assert [row["step"] for row in board.ranks()] == [0, 0]
    for step in range(1, 6):
        board.add(_reports(step, [1.0 / step, 2.0 / step]))
    board.hold(5)
    ranks = board.ranks()
    assert [(row["rank"], row["step"], row["paused"]) for row in ranks] == [
        (0, 5, True),
        (1, 5, True),
    ]
    assert ranks[1]["loss"] == pytest.approx(0.4)
    assert ranks[0]["grad_norm"] is None  # not reported: null, not NaN
    history = board.history(since=3, limit=2)
    assert history["steps"] == [3, 4]
    assert history["loss"] == [[pytest.approx(1 / 3), 0.25], [pytest.approx(2 / 3), 0.5]]
    assert history["more"] is True
    board.hold(None)
    assert not any(row["paused"] for row in board.ranks())
