"""The attached loop without HTTP: a plain PyTorch loop on a thread, paused, stepped, resumed and
stopped through `AttachedLoop`, and what it captures."""

from __future__ import annotations

import asyncio
import io
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from acc.archive.store import RunArchive
from acc.attached_loop import AttachedLoop, AttachInfo, LoopClosed
from acc.callbacks import Callback
from acc.debug_controller import NotPaused
from acc.debugger import AttachError, StopTraining, attach
from acc.model_capture import (
    HIST_BINS,
    NoParameters,
    UnknownTensor,
    magnitude_histogram,
)
from acc.step_inspector import CaptureBudget, StepNotRetained
from acc.tensor_grid import reduce_grid
from tests.unit.blowup import Blowup

WAIT_S = 30.0


def small_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer) -> torch.Tensor:
    x = torch.randn(8, 6)
    loss = model(x).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


class LoopThread:
    """A user's loop on its own thread, calling `loop.end_step` after every step until it is
    told to stop or has run `steps` steps."""

    def __init__(self, loop: AttachedLoop, optimizer: torch.optim.Optimizer, steps: int) -> None:
        self.loop = loop
        self.optimizer = optimizer
        self.steps = steps
        self.ran = 0
        self.stopped = False
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            for _ in range(self.steps):
                loss = train_step(self.loop.model, self.optimizer)
                self.ran += 1
                if not self.loop.end_step({"loss": loss, "lr": 0.1}):
                    self.stopped = True
                    return
        except BaseException as error:  # noqa: BLE001 (reported by the test)
            self.error = error

    def __enter__(self) -> LoopThread:
        self.thread.start()
        return self

    def __exit__(self, *args: object) -> None:
        self.loop.close()
        self.thread.join(WAIT_S)
        assert not self.thread.is_alive()


@pytest.fixture
def model() -> nn.Module:
    return small_model()


@pytest.fixture
def optimizer(model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.SGD(model.parameters(), lr=0.1)


@pytest.fixture
def loop(model: nn.Module, optimizer: torch.optim.Optimizer) -> Iterator[AttachedLoop]:
    attached = AttachedLoop(model, optimizer, capture_every=5)
    yield attached
    attached.close()


def test_free_running_loop_keeps_scalars_every_step_and_statistics_every_nth(
    loop: AttachedLoop, optimizer: torch.optim.Optimizer
) -> None:
    for _ in range(12):
        assert loop.end_step({"loss": train_step(loop.model, optimizer), "lr": 0.1})
    state = loop.state()
    assert state.step == 12 and not state.paused and state.last_full_step is None
    history = loop.history()
    assert history["steps"].tolist() == list(range(1, 13))
    assert set(history["columns"]) == {"scalar/loss", "scalar/lr"}
    assert np.all(np.isfinite(history["columns"]["scalar/loss"]))
    stats = loop.history(["stats/0.weight"])["columns"]["stats/0.weight"]
    kept = [
        step
        for step, row in zip(range(1, 13), stats, strict=True)
        if row is not None and np.isfinite(row).all()
    ]
    assert kept == [5, 10]
    table = loop.layers()
    assert table["step"] == 10
    assert [row["name"] for row in table["parameters"]] == [
        "0.weight",
        "0.bias",
        "2.weight",
        "2.bias",
    ]
    first = table["parameters"][0]
    assert first["shape"] == [16, 6] and first["numel"] == 96
    weight = loop.model.get_parameter("0.weight")
    # the table's weight norm is that of step 10's weights, not the current ones
    assert first["weight_norm"] > 0 and first["update_ratio"] > 0
    assert first["weight_nonfinite"] == 0 and first["grad_nonfinite"] == 0
    assert weight.shape == (16, 6)
    relu = next(row for row in table["modules"] if row["kind"] == "ReLU")
    assert 0 < relu["zero_fraction"] < 1 and relu["mean"] >= 0
    with pytest.raises(StepNotRetained):
        loop.step_data()  # nothing held while running freely


def test_pause_step_three_resume_and_stop(
    loop: AttachedLoop, optimizer: torch.optim.Optimizer
) -> None:
    with pytest.raises(NotPaused):
        loop.submit_step(1)
    with LoopThread(loop, optimizer, steps=100_000) as user:
        assert loop.pause(wait=WAIT_S)
        paused_at = loop.state().step
        assert loop.state().blocked and loop.state().last_full_step == paused_at
        last = loop.submit_step(3).result(WAIT_S)
        assert last == paused_at + 3 == loop.state().step
        assert user.ran == paused_at + 3  # the loop's own counter moved by exactly 3
        step, keys = loop.keys()
        assert step == last
        for name in ("0.weight", "0.bias", "2.weight", "2.bias"):
            assert {f"weight/{name}", f"grad/{name}", f"update/{name}"} <= set(keys)
        # the update of a held step is its weight minus the weight of the step before
        _, now = loop.tensor("weight/0.weight", last)
        _, before = loop.tensor("weight/0.weight", last - 1)
        _, update = loop.tensor("update/0.weight", last)
        np.testing.assert_allclose(update, now - before, atol=1e-6)
        _, grad = loop.tensor("grad/0.weight", last)
        np.testing.assert_allclose(update, -0.1 * grad, atol=1e-6)  # plain SGD
        with pytest.raises(UnknownTensor, match="holds no 'weight/nope'"):
            loop.tensor("weight/nope")
        loop.resume()
        assert not loop.state().paused
        loop.stop()
        user.thread.join(WAIT_S)
        assert user.stopped and user.error is None


def test_stop_releases_a_paused_loop(loop: AttachedLoop, optimizer: torch.optim.Optimizer) -> None:
    with LoopThread(loop, optimizer, steps=100_000) as user:
        assert loop.pause(wait=WAIT_S)
        loop.stop()
        user.thread.join(WAIT_S)
        assert user.stopped


def test_close_releases_a_paused_loop_and_refuses_more_steps(
    loop: AttachedLoop, optimizer: torch.optim.Optimizer
) -> None:
    user = LoopThread(loop, optimizer, steps=100_000)
    with user:
        assert loop.pause(wait=WAIT_S)
    assert user.stopped
    with pytest.raises(LoopClosed):
        loop.end_step({"loss": 1.0})
    with pytest.raises(LoopClosed):
        loop.pause()


def test_held_steps_stay_within_the_budget(model: nn.Module) -> None:
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    budget = CaptureBudget(max_full_snapshots=2, max_snapshot_bytes=1 << 20)
    loop = AttachedLoop(model, optimizer, budget=budget)
    with LoopThread(loop, optimizer, steps=100_000):
        assert loop.pause(wait=WAIT_S)
        last = loop.submit_step(4).result(WAIT_S)
        assert loop.state().retained == (last - 1, last)


def test_first_nonfinite_names_the_module_that_produced_it() -> None:
    torch.manual_seed(0)
    blowup = Blowup()
    model = nn.Sequential(nn.Linear(4, 4), blowup, nn.Linear(4, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loop = AttachedLoop(model, optimizer, capture_every=100)
    try:
        for step in range(1, 8):
            blowup.armed = step >= 3
            x = torch.randn(4, 4)
            loss = model(x).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loop.end_step({"loss": loss})
        record = loop.state().first_nonfinite
        assert record is not None
        # step 3's loss went non-finite on a light step; the next step looked for the source
        assert record["step"] == 4 and record["first_seen"] == 3
        assert str(record["key"]).startswith("act/") and "module" in record
        table = loop.layers()
        assert table["step"] == 4
        assert table["first_nonfinite"] == record
    finally:
        loop.close()


def test_the_module_is_found_when_the_step_had_statistics() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loop = AttachedLoop(model, optimizer, capture_every=1)
    try:
        with torch.no_grad():
            model.get_parameter("1.weight")[0, 0] = float("nan")
        loss = model(torch.randn(4, 4)).sum()
        loss.backward()
        loop.end_step({"loss": loss})
        record = loop.state().first_nonfinite
        assert record == {"step": 1, "key": "act/1", "module": "1", "count": 4}
        row = next(r for r in loop.layers()["parameters"] if r["name"] == "1.weight")
        assert row["weight_nonfinite"] == 1 and row["weight_norm"] is None
    finally:
        loop.close()


def test_a_callback_adds_named_tensors(model: nn.Module) -> None:
    seen: list[int] = []

    class Recorder(Callback):
        def on_step_end(self, info: AttachInfo) -> None:  # type: ignore[override]
            seen.append(info.step)
            info.record("first_row", info.model.get_parameter("0.weight").detach()[0])
            info.record("loss_twice", 2 * info.loss)

    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loop = AttachedLoop(model, optimizer, callbacks=[Recorder()], paused=True)
    try:
        # a loop attached paused holds its first step in full and waits after it
        with LoopThread(loop, optimizer, steps=2):
            assert loop.controller.when_blocked().result(WAIT_S)
            step, keys = loop.keys()
            assert step == 1 and "tensor/first_row" in keys
            _, row = loop.tensor("tensor/first_row")
            assert row.shape == (6,)
            history = loop.history(["tensor/loss_twice", "scalar/loss"])["columns"]
            np.testing.assert_allclose(history["tensor/loss_twice"], 2 * history["scalar/loss"])
        assert seen[0] == 1
    finally:
        loop.close()


def test_bad_use_gets_clear_errors(model: nn.Module) -> None:
    with pytest.raises(NoParameters, match="no trainable parameters"):
        AttachedLoop(nn.ReLU())
    with pytest.raises(ValueError, match="capture_every"):
        AttachedLoop(model, capture_every=0)
    with pytest.raises(TypeError, match="torch.nn.Module"):
        AttachedLoop("model")  # type: ignore[arg-type]
    loop = AttachedLoop(model)
    try:
        with pytest.raises(ValueError, match="one-element tensor, got a tensor of shape"):
            loop.end_step({"loss": torch.ones(3)})
        with pytest.raises(ValueError, match="must be a number"):
            loop.end_step({"loss": "low"})
        assert loop.state().step == 0  # a refused step records nothing
    finally:
        loop.close()


def test_attach_serves_stops_and_refuses_a_taken_port(model: nn.Module) -> None:
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    out = io.StringIO()
    with attach(model, optimizer, port=0, out=out) as dbg:
        assert dbg.url.startswith("http://127.0.0.1:") and dbg.port > 0
        assert dbg.url in out.getvalue()
        with pytest.raises(AttachError, match=f"port {dbg.port} on 127.0.0.1 is in use"):
            attach(small_model(1), port=dbg.port, quiet=True)
        dbg.step(loss=train_step(model, optimizer))
        dbg.stop()
        assert dbg.should_stop
        with pytest.raises(StopTraining):
            dbg.step(loss=train_step(model, optimizer))
        dbg.step(loss=1.0)  # raises StopTraining again: the `with` block swallows it
    with pytest.raises(LoopClosed, match="after dbg.close"):
        dbg.step(loss=1.0)
    # the port is free again once closed
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", dbg.port))


def test_attach_refuses_a_port_another_server_holds(model: nn.Module) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        with pytest.raises(AttachError, match="in use"):
            attach(model, port=port, quiet=True)


def test_magnitude_histogram_bins_are_fixed() -> None:
    values = torch.tensor([0.0, 0.0, 1.0, -1.5, 2.0**-30, 1e9, 0.25])
    counts = magnitude_histogram(values)
    assert counts.shape == (HIST_BINS + 1,)
    assert int(counts.sum()) == values.numel()
    assert counts[0] == 2  # exact zeros
    assert counts[1] == 1  # 2^-30 falls in the lowest bin
    assert counts[-1] == 1  # 1e9 in the highest


def test_reduce_grid_gives_min_max_mean_per_cell_and_exact_windows() -> None:
    rng = np.random.default_rng(0)
    array = rng.standard_normal((100, 70)).astype(np.float32)
    grid = reduce_grid(array, 8, 8)
    assert grid["rows"] == 8 and grid["cols"] == 8 and not grid["exact"]
    rows = [*grid["row_starts"], 100]
    cols = [*grid["col_starts"], 70]
    for i in range(8):
        for j in range(8):
            cell = array[rows[i] : rows[i + 1], cols[j] : cols[j + 1]]
            assert grid["min"][i, j] == cell.min() and grid["max"][i, j] == cell.max()
            assert grid["mean"][i, j] == pytest.approx(cell.mean(), rel=1e-5, abs=1e-6)
    zoom = reduce_grid(array, 8, 8, (10, 14, 20, 25))
    assert zoom["exact"] and zoom["rows"] == 4 and zoom["cols"] == 5
    np.testing.assert_array_equal(zoom["mean"], array[10:14, 20:25])
    conv = reduce_grid(np.ones((4, 3, 2, 2), dtype=np.float32), 64, 64)
    assert conv["grid_shape"] == [4, 12] and conv["exact"]
    with pytest.raises(ValueError, match="outside the 100 x 70 tensor"):
        reduce_grid(array, 8, 8, (0, 101, 0, 5))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_model_on_an_accelerator_is_captured_to_the_host() -> None:
    torch.manual_seed(0)
    model = small_model().cuda()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loop = AttachedLoop(model, optimizer, paused=True)
    done = threading.Event()

    def user_loop() -> None:
        try:
            while True:
                loss = model(torch.randn(8, 6, device="cuda")).pow(2).mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if not loop.end_step({"loss": loss}):
                    return
        finally:
            done.set()

    thread = threading.Thread(target=user_loop, daemon=True)
    thread.start()
    try:
        assert loop.controller.when_blocked().result(WAIT_S)
        last = loop.submit_step(2).result(WAIT_S)
        _, weight = loop.tensor("weight/0.weight", last)
        np.testing.assert_array_equal(
            weight, model.get_parameter("0.weight").detach().cpu().numpy()
        )
        _, update = loop.tensor("update/0.weight", last)
        _, grad = loop.tensor("grad/0.weight", last)
        np.testing.assert_allclose(update, -0.1 * grad, atol=1e-6)
        modules = {row["name"]: row for row in loop.layers()["modules"]}
        assert modules["1"]["zero_fraction"] is not None and modules["1"]["nonfinite"] == 0
    finally:
        loop.stop()
        assert done.wait(WAIT_S)
        loop.close()


def test_attach_works_where_an_event_loop_already_runs(model: nn.Module) -> None:
    # As in a Jupyter notebook: the caller's thread runs an asyncio loop of its own.
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    async def notebook_cell() -> int:
        with attach(model, optimizer, port=0, quiet=True) as dbg:
            for _ in range(3):
                dbg.step(loss=train_step(model, optimizer))
            steps = dbg.loop.state().step
        return steps

    assert asyncio.run(notebook_cell()) == 3


def test_an_attached_loop_is_recorded_in_the_runs_archive(model: nn.Module, tmp_path: Path) -> None:
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    with attach(model, optimizer, port=0, quiet=True, dashboard=False, runs_dir=tmp_path) as dbg:
        for _ in range(5):
            loss = train_step(model, optimizer)
            losses.append(float(loss.detach()))
            dbg.step(loss=loss, accuracy=0.5)
    with RunArchive(tmp_path) as archive:  # written by the time close() returned
        (run,) = archive.list_runs().runs
        assert (run.kind, run.recipe, run.status, run.steps) == (
            "attached loop",
            "Sequential",
            "completed",
            5,
        )
        history = archive.history(run.id, keys=["loss"]).history
        assert history.steps.tolist() == [1, 2, 3, 4, 5]
        assert np.allclose(history.columns["loss"], losses)
    with attach(model, port=0, quiet=True, dashboard=False, record=False, runs_dir=tmp_path):
        pass
    with RunArchive(tmp_path) as archive:
        assert archive.list_runs().total == 1  # record=False kept nothing
