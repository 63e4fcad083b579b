"""Rewind and branch on a Session: exact replay on the CPU for both recipes, branches, restore
points within their byte budget."""

from __future__ import annotations

import numpy as np
import pytest

from acc.breakpoints import BreakpointConfig
from acc.data import MnistData
from acc.debug_controller import NotPaused
from acc.free_run import FreeRun, RunFinished
from acc.restore_points import RestorePoints, RewindUnavailable, take
from acc.session import Session
from acc.step_inspector import CaptureBudget, StepData

# Small models keep these tests quick; the defaults are measured in bench/bench_rewind.py.
RECIPES = {
    "gradient_gating_l0": ("bcl-med", {"dim": 16, "batch_size": 32}),
    "vqvae": ("ema", {"levels": 2, "num_codes": 16, "batch_size": 16}),
}


def _session(mnist: MnistData, recipe: str, **budget: int) -> Session:
    condition, options = RECIPES[recipe]
    return Session(
        recipe,
        condition,
        data=mnist,
        seed=3,
        recipe_options=options,
        budget=CaptureBudget(**budget),
    )


def _steps(session: Session, first: int, last: int) -> dict[int, StepData]:
    return {step: session.get_step(step) for step in range(first, last + 1)}


def _assert_same(a: StepData, b: StepData) -> None:
    assert sorted(a.arrays) == sorted(b.arrays)
    for key in a.arrays:
        # bit for bit: equal bytes, NaN included
        assert a.arrays[key].tobytes() == b.arrays[key].tobytes(), f"step {a.step}: {key}"


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_rewind_replays_every_captured_tensor_bit_for_bit(mnist: MnistData, recipe: str) -> None:
    with _session(mnist, recipe) as session:
        session.step(10)
        first = _steps(session, 6, 10)
        losses = session.history(6).columns["loss"].copy()
        branch = session.rewind(5)
        assert session.state().step == 5
        assert session.inspector.last_step == 5
        assert session.history(6).steps.size == 0  # the steps after 5 left the current line
        session.step(5)
        again = _steps(session, 6, 10)
        for step in range(6, 11):
            _assert_same(first[step], again[step])
        assert session.history(6).columns["loss"].tobytes() == losses.tobytes()
        assert branch is not None
        assert (branch.fork_step, list(branch.steps)) == (5, [6, 7, 8, 9, 10])
        assert branch.label == "from step 5"
        assert branch.losses() == [float(v) for v in losses]
        _assert_same(branch.get_step(8), first[8])


def test_vq_health_and_dynamics_replay_too(mnist: MnistData) -> None:
    with _session(mnist, "vqvae") as session:
        session.step(8)
        health = session.capture.health_report()  # type: ignore[attr-defined]
        drift = session.capture.error_series(range(1, 9))  # type: ignore[attr-defined]
        session.rewind(3)
        assert session.capture.error_series(range(4, 9))["drift"] == [None] * 5  # type: ignore[attr-defined]
        session.step(5)
        assert session.capture.health_report() == health  # type: ignore[attr-defined]
        assert session.capture.error_series(range(1, 9)) == drift  # type: ignore[attr-defined]


def test_rewind_to_step_zero_replays_from_the_start(mnist: MnistData) -> None:
    with _session(mnist, "gradient_gating_l0") as session:
        session.step(3)
        first = _steps(session, 1, 3)
        session.rewind(0)
        assert session.state().step == 0 and session.inspector.last_step is None
        session.step(3)
        for step in range(1, 4):
            _assert_same(first[step], session.get_step(step))


def test_an_edit_after_a_rewind_changes_the_replay_and_labels_the_branch(
    mnist: MnistData,
) -> None:
    with _session(mnist, "gradient_gating_l0") as session:
        session.step(6)
        original = float(session.get_step(6).arrays["loss"])
        session.rewind(4)
        session.edits.submit({"lr": 0.05})
        session.step(2)
        edited = float(session.get_step(6).arrays["loss"])
        assert edited != original
        branch = session.rewind(4)
        assert branch is not None and branch.label.startswith("lr 0.001 → 0.05 at step 5")
        # the restore point holds the optimizer's hyper-parameters too: lr is back
        assert session.edits.values()["lr"] == pytest.approx(1e-3)
        session.step(2)
        assert float(session.get_step(6).arrays["loss"]) == original
        summaries = session.state().branches
        assert [(b["id"], b["fork_step"], b["label"]) for b in summaries] == [
            (1, 4, "from step 4"),
            (2, 4, branch.label),
        ]
        # The edit belongs to the abandoned branch: the timelines of this line no longer mark
        # it, while the full list (what the archive records) keeps it.
        assert [e for e in session.state().events if e["kind"] == "hparam"] == []
        assert session.inspector.events.since(1) == ()  # what the history answers carry
        assert [e.name for e in session.inspector.events.all()] == ["lr"]
        session.edits.submit({"lr": 0.02})
        session.step(1)  # an edit on the current line is marked again
        assert [(e["step"], e["new"]) for e in session.state().events] == [(7, 0.02)]


def test_rewind_to_a_step_without_a_restore_point_names_the_held_ones(mnist: MnistData) -> None:
    with _session(mnist, "gradient_gating_l0") as session:
        session.step(2)
        assert session.state().rewindable == (0, 1, 2)
        with pytest.raises(
            RewindUnavailable, match=r"no restore point is held for step 7; .*0, 1, 2"
        ):
            session.rewind(7)
        assert session.state().step == 2  # nothing changed


def test_restore_points_stay_within_their_byte_budget(mnist: MnistData) -> None:
    with _session(mnist, "gradient_gating_l0") as session:
        session.step(1)
        size = session.restore_points.get(1).nbytes  # with Adam's moments, unlike step 0's
        assert size > session.restore_points.get(0).nbytes > 0
    with _session(mnist, "gradient_gating_l0", max_restore_bytes=3 * size + size // 2) as session:
        session.step(6)
        state = session.state()
        assert state.rewindable == (4, 5, 6)  # oldest evicted first
        assert state.restore_bytes <= state.max_restore_bytes
        with pytest.raises(RewindUnavailable):
            session.rewind(2)


def test_a_restore_point_can_be_restored_twice(mnist: MnistData) -> None:
    with _session(mnist, "gradient_gating_l0") as session:
        session.step(4)
        expected = session.get_step(4)
        for _ in range(2):
            session.rewind(3)
            session.step(1)
            _assert_same(expected, session.get_step(4))


def test_restore_point_store_replaces_and_drops(mnist: MnistData) -> None:
    with _session(mnist, "gradient_gating_l0") as session:
        parts = session._stateful_parts()
        device = session.run_on_worker(lambda setup: setup.device)
        store = RestorePoints(max_bytes=10**9)
        for step in (1, 2, 3):
            store.add(session.run_on_worker(lambda setup, s=step: take(s, parts, device)))
        store.drop_after(1)
        assert store.steps == (1,)
        assert store.nbytes == store.get(1).nbytes
        tiny = RestorePoints(max_bytes=10)
        tiny.add(store.get(1))
        assert tiny.steps == ()  # larger than the whole budget: not kept


def test_branch_steps_keep_their_losses_when_full_data_is_evicted(mnist: MnistData) -> None:
    with _session(mnist, "gradient_gating_l0") as session:
        session.step(4)
        budget = session.get_step(4).nbytes
    with _session(mnist, "gradient_gating_l0", max_snapshot_bytes=2 * budget) as session:
        session.step(4)
        session.rewind(2)
        session.step(2)
        session.rewind(2)
        branches = session.branches.all()
        assert [b.summary()["held"] for b in branches] == [[], [3, 4]]
        assert all(np.isfinite(b.history.columns["loss"]).all() for b in branches)


def test_a_free_run_rewinds_only_while_held_at_a_boundary(mnist: MnistData) -> None:
    condition, options = RECIPES["gradient_gating_l0"]
    run = FreeRun(
        "gradient_gating_l0",
        condition,
        50,
        data=mnist,
        seed=3,
        recipe_options=options,
        capture_every=7,
        paused=True,
    )
    try:
        assert run.controller.when_blocked().result(120)
        start = run.state().step
        first = {step: run.step(1) for step in range(start + 1, start + 5)}
        assert set(range(start, start + 5)) <= set(run.state().rewindable)
        branch = run.rewind(start + 1)
        assert branch is not None and branch.fork_step == start + 1
        assert run.state().step == start + 1 and run.state().last_full_step == start + 1
        for step in range(start + 2, start + 5):
            _assert_same(first[step], run.step(1))
        run.controller.resume()
        with pytest.raises(NotPaused):
            run.rewind(start + 1)
        assert run.wait(120)
        assert run.state().step == 50 - 3  # the run ran its 50 steps, three of them twice
        with pytest.raises(RunFinished):
            run.rewind(start)
    finally:
        run.close()


def test_a_rewind_takes_the_loss_spike_average_back_too(mnist: MnistData) -> None:
    """`loss_spike` compares against an EMA of the losses before: after a rewind it is the EMA
    of the line the session went back to, not of the abandoned steps."""
    with _session(mnist, "gradient_gating_l0") as session:
        # A spike factor no loss reaches: the EMA builds and nothing fires.
        session.breakpoints.set(BreakpointConfig.parse({"loss_spike": 1000}))
        session.step(4)
        at_four = session.run_on_worker(lambda _: session._breaks.state_dict())
        session.step(4)
        assert session.run_on_worker(lambda _: session._breaks.state_dict()) != at_four
        session.rewind(4)
        assert session.run_on_worker(lambda _: session._breaks.state_dict()) == at_four
        session.step(4)  # and the replay builds the same average again
        assert session.breakpoints.reason is None
