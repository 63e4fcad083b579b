"""Breakpoints and live edits on real loops: an inspector session's Step ×N ends at the step
where a condition holds, a free run pauses there with the step captured in full, the first
non-finite module is named, edits apply at the next step boundary and are step events."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import pytest
import torch
from torch import nn

from acc.archive.seat import session_watchers
from acc.archive.store import RunArchive
from acc.attached_loop import AttachedLoop
from acc.breakpoints import BreakpointConfig, BreakpointError, Breakpoints, BreakReason
from acc.callbacks import LambdaCallback
from acc.data import MnistData
from acc.free_run import FreeRun
from acc.live_edits import HparamError
from acc.session import Session
from acc.step_events import StepEvent, StepEvents
from acc.trainer import StepInfo
from tests.unit.blowup import Blowup


def test_config_parse_validates_names_and_ranges() -> None:
    config = BreakpointConfig.parse({"nonfinite": True, "loss_above": 2, "loss_spike": None})
    assert config == BreakpointConfig(nonfinite=True, loss_above=2.0)
    assert config.armed and not BreakpointConfig().armed
    with pytest.raises(BreakpointError, match="'loss_below' is not a breakpoint condition"):
        BreakpointConfig.parse({"loss_below": 1})
    with pytest.raises(BreakpointError, match=r"loss_spike must be a number in 1\.\.1e\+06"):
        BreakpointConfig.parse({"loss_spike": 0.5})
    with pytest.raises(BreakpointError, match="dead_fraction_above must be"):
        BreakpointConfig.parse({"dead_fraction_above": "half"})
    with pytest.raises(BreakpointError, match="nonfinite must be true or false"):
        BreakpointConfig.parse({"nonfinite": 1})


def test_nan_demo_session_stops_at_the_first_nonfinite_step_and_names_the_module(
    mnist: MnistData,
) -> None:
    with Session("gradient_gating_l0", "bcl-nan-demo", data=mnist) as session:
        session.breakpoints.set(BreakpointConfig(nonfinite=True))
        data = session.step(50)
        state = session.state()
        first = state.first_nonfinite
        assert first is not None
        # It stops at the step the inspector's first non-finite badge names, not later.
        assert data.step == first["step"] == state.step
        reason = state.break_reason
        assert reason is not None and reason["condition"] == "nonfinite"
        assert reason["step"] == first["step"]
        assert reason["where"].startswith("encoder.0 ")  # the module, not only a key
        assert str(first["key"]) in reason["where"]
        assert state.events[-1] == {
            "step": first["step"],
            "kind": "breakpoint",
            "name": "nonfinite",
            "old": None,
            "new": reason["value"],
        }
        # The next Step ×N stops again at its first step: it is still non-finite.
        assert session.step(5).step == first["step"] + 1


def test_forward_output_is_named_before_gradients_and_parameters() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    fired: list[BreakReason] = []
    breakpoints = Breakpoints()
    breakpoints.set(BreakpointConfig(nonfinite=True))
    callback = breakpoints.callback(model, lambda: None, fired.append)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    def step(n: int, x: torch.Tensor) -> None:
        callback.on_step_start(n)
        loss = model(x).sum()
        loss.backward()
        info = StepInfo(n, None, None, loss, {}, model, optimizer)  # type: ignore[arg-type]
        callback.on_after_backward(info)
        optimizer.step()
        optimizer.zero_grad()
        callback.on_step_end(info)

    step(1, torch.ones(2, 3))
    assert fired == []
    with torch.no_grad():
        model[2].weight[0, 0] = math.inf  # the last Linear's output goes non-finite first
    step(2, torch.ones(2, 3))
    assert [(r.step, r.where) for r in fired] == [(2, "2 output")]
    callback.close()
    assert not callback._handles


def test_thresholds_fire_on_the_step_that_crosses_them(mnist: MnistData) -> None:
    with Session("gradient_gating_l0", "bcl-med", data=mnist) as session:
        first = float(session.step(1).arrays["loss"])
        session.breakpoints.set(BreakpointConfig(loss_above=first * 0.5))
        assert session.step(10).step == 2  # the loss is above half the first one at once
        assert session.state().break_reason["condition"] == "loss_above"  # type: ignore[index]
        session.breakpoints.set(BreakpointConfig(grad_norm_above=1e-9))
        assert session.step(10).step == 3
        reason = session.breakpoints.reason
        assert reason is not None and reason.condition == "grad_norm_above"
        assert reason.value is not None and reason.value > 1e-9
        session.breakpoints.set(BreakpointConfig(dead_fraction_above=0.0))
        session.step(3)  # a win rate under 1 % somewhere in 64 features, or none: either way
        session.breakpoints.clear()
        assert session.breakpoints.reason is None and not session.breakpoints.armed
        before = session.state().step
        assert session.step(4).step == before + 4  # disarmed: no early end


def test_loss_spike_needs_its_warmup_then_fires(mnist: MnistData) -> None:
    with Session("gradient_gating_l0", "bcl-med", data=mnist) as session:
        session.breakpoints.set(BreakpointConfig(loss_spike=1.0))
        # k = 1: any loss above its EMA fires, but only after the warm-up steps.
        last = session.step(40).step
        assert last > 10
        reason = session.breakpoints.reason
        if reason is not None:  # a falling loss may never rise above its EMA in 40 steps
            assert reason.condition == "loss_spike" and reason.value is not None
            assert reason.value > 1.0 and reason.step == last


def test_free_run_pauses_at_the_break_step_captured_in_full(mnist: MnistData) -> None:
    run = FreeRun("gradient_gating_l0", "bcl-nan-demo", 200, data=mnist, capture_every=1000)
    try:
        run.session.breakpoints.set(BreakpointConfig(nonfinite=True))
        assert run.controller.when_blocked().result(60)
        state = run.state()
        assert state.break_reason is not None
        step = state.break_reason["step"]
        assert state.step == step and state.last_full_step == step
        assert "encoder_weights" in run.session.get_step(step).arrays  # fully captured
    finally:
        run.close()


def test_edits_apply_at_the_next_step_and_are_events(mnist: MnistData) -> None:
    seen_lr: list[float] = []
    with Session("gradient_gating_l0", "bcl-med", data=mnist) as session:
        watcher = LambdaCallback(
            on_after_backward=lambda info: seen_lr.append(info.optimizer.param_groups[0]["lr"])
        )
        session._callbacks = (watcher,)  # a watcher that sees each step's learning rate
        session.step(2)
        pending = session.edits.submit({"lr": 0.01, "som_lr": 0.02, "temperature": 2})
        assert pending == {"lr": 0.01, "som_lr": 0.02, "temperature": 2.0}
        assert session.edits.values()["lr"] == pytest.approx(1e-3)  # not applied mid-way
        session.step(1)
        assert seen_lr == [1e-3, 1e-3, 0.01]
        values = session.edits.values()
        assert values["som_lr"] == 0.02 and values["temperature"] == 2.0
        assert session.run_on_worker(lambda setup: setup.bcl.config.som_lr) == 0.02  # type: ignore[attr-defined]
        events = [e for e in session.state().events if e["kind"] == "hparam"]
        assert events == [
            {"step": 3, "kind": "hparam", "name": "lr", "old": 0.001, "new": 0.01},
            {"step": 3, "kind": "hparam", "name": "som_lr", "old": 0.005, "new": 0.02},
            {"step": 3, "kind": "hparam", "name": "temperature", "old": 5.0, "new": 2.0},
        ]
        with pytest.raises(HparamError, match="'momentum' is not an editable"):
            session.edits.submit({"momentum": 0.9})
        with pytest.raises(HparamError, match=r"lr must be a number in 0\.\.10, got -1"):
            session.edits.submit({"lr": -1})
        assert session.edits.pending() == {}


def test_control_has_no_bcl_knobs_and_vq_has_commitment(mnist: MnistData) -> None:
    with Session("gradient_gating_l0", "control", data=mnist) as session:
        assert set(session.edits.knobs) == {"lr", "weight_decay"}
        with pytest.raises(HparamError, match="editable: lr, weight_decay$"):
            session.edits.submit({"som_lr": 0.1})
    with Session("vqvae", "ema", data=mnist) as session:
        assert set(session.edits.knobs) == {"lr", "weight_decay", "commitment"}
        session.edits.submit({"commitment": 1.5})
        session.step(1)
        levels = session.run_on_worker(lambda setup: setup.model.quantizer.quantizers())  # type: ignore[union-attr, operator]
        assert all(level.commitment_cost == 1.5 for level in levels)


def test_step_events_cursor_survives_dropping_old_events() -> None:
    events = StepEvents(max_events=2)
    for step in range(1, 5):
        events.add(StepEvent(step, "hparam", "lr", 0.1, 0.2))
    assert events.count == 4 and [e.step for e in events.all()] == [3, 4]
    assert [e.step for e in events.after(3)] == [4]
    assert events.after(4) == () and [e.step for e in events.since(4)] == [4]


def test_attached_loop_pauses_at_the_break_step_and_names_the_module() -> None:
    torch.manual_seed(0)
    blowup = Blowup()
    model = nn.Sequential(nn.Linear(4, 4), blowup, nn.Linear(4, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loop = AttachedLoop(model, optimizer, capture_every=100)
    loop.breakpoints.set(BreakpointConfig(nonfinite=True))
    reached: list[int] = []

    def user_loop() -> None:
        for step in range(1, 10):
            blowup.armed = step >= 3
            loss = model(torch.randn(4, 4)).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            reached.append(step)
            if not loop.end_step({"loss": loss}):
                return

    thread = threading.Thread(target=user_loop)
    thread.start()
    try:
        assert loop.controller.when_blocked().result(30)
        state = loop.state()
        assert state.step == 3 and reached == [1, 2, 3]  # it waits at the boundary of step 3
        assert state.break_reason is not None
        assert state.break_reason["where"] == "1 output"  # the Blowup module, by its name
        assert state.last_full_step == 3  # held in full while breakpoints are armed
        assert state.events[-1]["kind"] == "breakpoint"
    finally:
        loop.close()
        thread.join(30)


def test_a_loop_without_a_loss_only_judges_what_it_has() -> None:
    model = nn.Linear(2, 1)
    loop = AttachedLoop(model, capture_every=100)
    loop.breakpoints.set(BreakpointConfig(nonfinite=True, loss_above=0.0))
    try:
        for _ in range(3):
            model(torch.ones(1, 2)).sum().backward()
            assert loop.end_step({"accuracy": 0.5})  # no "loss": nothing fires, no pause
        assert loop.state().break_reason is None
    finally:
        loop.close()


def test_a_zero_threshold_is_armed() -> None:
    assert BreakpointConfig(loss_above=0.0).armed and BreakpointConfig(grad_norm_above=0.0).armed


def test_the_archive_records_edits_and_breaks_as_events(mnist: MnistData, tmp_path: Path) -> None:
    with RunArchive(tmp_path / "runs") as archive:
        with Session(
            "gradient_gating_l0", "bcl-med", data=mnist, watchers=session_watchers(archive)
        ) as session:
            session.step(1)
            session.edits.submit({"lr": 0.01})
            session.breakpoints.set(BreakpointConfig(grad_norm_above=1e-9))
            assert session.step(5).step == 2
            run_id = session.session_id
        assert archive.writer.flush(30)
        events = [
            (e["step"], e["kind"], e.get("name"), e.get("old"), e.get("new"))
            for e in archive.get_run(run_id).events
        ]
    assert (2, "hparam", "lr", 0.001, 0.01) in events
    assert any(e[:3] == (2, "breakpoint", "grad_norm_above") for e in events)
