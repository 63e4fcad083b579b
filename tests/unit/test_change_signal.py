"""`ChangeSignal`: what event streams wait on instead of a timer."""

from __future__ import annotations

import threading

from acc.change_signal import ChangeSignal
from acc.debug_controller import DebugController


def test_a_waiter_resolves_on_the_next_bump_and_not_before() -> None:
    signal = ChangeSignal()
    waiter = signal.after(signal.version)
    assert not waiter.done()
    signal.bump()
    assert waiter.result(timeout=1) == 1
    assert signal.after(0).result(timeout=0) == 1  # already past: resolved at once


def test_a_bump_from_another_thread_wakes_the_waiter() -> None:
    signal = ChangeSignal()
    waiter = signal.after(0)
    threading.Thread(target=signal.bump).start()
    assert waiter.result(timeout=5) == 1


def test_cancelled_waiters_are_dropped_not_kept() -> None:
    signal = ChangeSignal()
    for _ in range(1000):
        signal.after(0).cancel()
    live = signal.after(0)
    assert len(signal._waiters) == 1  # only the live one is still held
    signal.bump()
    assert live.result(timeout=1) == 1


def test_the_controller_bumps_on_every_change_of_its_state() -> None:
    controller = DebugController()
    seen = controller.changes.version
    for change in (controller.pause, controller.resume, controller.request_stop):
        change()
        assert controller.changes.version > seen, change.__name__
        seen = controller.changes.version
    controller.end("done")
    assert controller.changes.version > seen


def test_blocking_at_a_boundary_and_leaving_it_are_changes() -> None:
    controller = DebugController()
    controller.pause()
    before = controller.changes.version
    blocked = controller.changes.after(before)
    worker = threading.Thread(target=controller.wait_if_paused)
    worker.start()
    assert blocked.result(timeout=5) == before + 1  # the loop blocked
    assert controller.when_blocked().result(timeout=5)
    unblocked = controller.changes.after(controller.changes.version)
    controller.step(1)
    assert unblocked.result(timeout=5)  # the loop left the boundary
    worker.join(5)
    assert not worker.is_alive()
