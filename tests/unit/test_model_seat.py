"""ModelSeat: one owner of the model at a time, named by a typed owner; a refused start changes
nothing; a finished run frees the model but stays readable."""

from __future__ import annotations

import pytest

from acc.data import MnistData
from acc.model_seat import ModelBusy, ModelSeat, NoRun, NoSession, Owner, OwnerKind


def test_one_owner_at_a_time_named_by_kind_and_id(mnist: MnistData) -> None:
    seat = ModelSeat(mnist)
    try:
        assert seat.owner is None
        with pytest.raises(NoSession, match="no inspector session"):
            seat.require_session()
        with pytest.raises(NoRun, match="no free run"):
            seat.require_run()
        session = seat.setup_session("gradient_gating_l0", "control", 0)
        assert seat.owner == Owner(OwnerKind.INSPECTOR, session.session_id)
        with pytest.raises(ModelBusy, match=f"held by the inspector session {session.session_id}"):
            seat.start_run("gradient_gating_l0", "control", 10)
        assert seat.session is session and seat.run is None  # the refusal changed nothing
        replaced = seat.setup_session("gradient_gating_l0", "bcl-fast", 1)  # replaces itself
        assert session.closed and seat.session is replaced
        assert seat.teardown_session() == replaced.session_id and seat.owner is None

        run = seat.start_run("gradient_gating_l0", "control", 100_000, paused=True)
        assert str(seat.owner) == f"the free run {run.run_id}"
        with pytest.raises(ModelBusy, match=f"held by the free run {run.run_id}"):
            seat.setup_session("gradient_gating_l0", "control", 0)
        with pytest.raises(ModelBusy):
            seat.start_run("gradient_gating_l0", "control", 10)  # a second run waits its turn
        assert seat.run is run and seat.session is None
        assert seat.stop_run() is run and seat.owner is None
        assert seat.require_run() is run  # a finished run stays readable
        assert run.state().status.value == "stopped"
        session = seat.setup_session("gradient_gating_l0", "control", 0)  # the model is free
        assert seat.run is run and not run.session.closed
    finally:
        seat.close()
    assert seat.owner is None and seat.run is None and seat.session is None


def test_a_run_that_completes_gives_the_model_back(mnist: MnistData) -> None:
    seat = ModelSeat(mnist)
    try:
        run = seat.start_run("gradient_gating_l0", "control", 3)
        assert run.wait(60)
        assert seat.owner is None
        assert seat.setup_session("gradient_gating_l0", "control", 0).session_id
    finally:
        seat.close()
