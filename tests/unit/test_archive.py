"""The runs archive as a library: recording, reading, deleting, pruning, interrupted runs, and
damaged or foreign files in the runs directory."""

from __future__ import annotations

import math
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import numpy as np
import pytest
import torch

from acc.archive.recorder import RunRecorder
from acc.archive.seat import FreeRunRecorder, SessionRecorder
from acc.archive.store import (
    ArchivedRunActive,
    ArchivedRunNotFound,
    ArchiveError,
    RunArchive,
    UnknownHistoryKey,
)
from acc.archive.vocabulary import RunKind, RunStatus
from acc.data import Batch, MnistData
from acc.model_seat import ModelSeat
from acc.trainer import StepInfo, Trainer


def _record(archive: RunArchive, steps: int, recipe: str = "r", **kwargs: object) -> RunRecorder:
    recorder = RunRecorder(archive, recipe=recipe, condition="c", options={"lr": 0.1}, seed=3)
    for step in range(1, steps + 1):
        recorder.record_step(step, {"loss": 10.0 / step, "cos": float(step % 3)})
    return recorder


def test_a_recorded_run_lists_with_its_summary_history_events_and_kept_tensors(
    tmp_path: Path,
) -> None:
    with RunArchive(tmp_path / "runs") as archive:
        recorder = _record(archive, 250)
        # A non-finite loss is kept, but is neither the final nor the best loss.
        recorder.record_step(251, {"loss": math.nan, "cos": 1.0})
        recorder.record_event("pause", 100)
        recorder.record_tensors(
            250, {"encoder_weights": np.arange(12, dtype=np.float32).reshape(3, 4)}
        )
        recorder.finish(RunStatus.COMPLETED)
        assert archive.writer.flush(30)

        listed = archive.list_runs()
        assert listed.total == 1 and listed.archive_bytes > 0
        run = listed.runs[0]
        assert (run.id, run.kind, run.recipe, run.condition) == (
            recorder.run_id,
            "cli run",
            "r",
            "c",
        )
        assert (run.options, run.seed, run.status, run.steps) == ({"lr": 0.1}, 3, "completed", 251)
        assert run.last_step == 251 and run.best_loss == pytest.approx(10.0 / 250)
        assert run.final_loss == pytest.approx(10.0 / 250)  # NaN does not replace the last loss
        assert run.duration is not None and run.duration >= 0

        found = archive.history(run.id, keys=["loss"], since=5, limit=3)
        assert found.history.steps.tolist() == [5, 6, 7] and found.history.more
        assert found.history.columns["loss"].tolist() == pytest.approx([2.0, 10 / 6, 10 / 7])
        assert found.keys == ("cos", "loss") and found.wall.shape == (3,)
        every = archive.history(run.id)
        assert every.history.steps.size == 251 and not every.history.more
        assert math.isnan(every.history.columns["loss"][-1])
        with pytest.raises(UnknownHistoryKey, match="recorded no nope; its keys: cos, loss"):
            archive.history(run.id, keys=["nope"])

        detail = archive.get_run(run.id)
        assert detail.kept_steps == (250,) and detail.tensor_bytes > 0
        assert detail.events == ({"step": 100, "wall": detail.events[0]["wall"], "kind": "pause"},)
        kept = archive.kept_step(run.id, 250)
        assert kept.arrays["encoder_weights"].tolist() == np.arange(12).reshape(3, 4).tolist()


def test_filters_order_delete_and_size(tmp_path: Path) -> None:
    with RunArchive(tmp_path) as archive:
        first = _record(archive, 5, recipe="a")
        first.finish(RunStatus.FAILED, "ValueError: boom")
        second = _record(archive, 5, recipe="b")
        second.finish(RunStatus.COMPLETED)
        assert archive.writer.flush(30)
        assert [run.id for run in archive.list_runs().runs] == [second.run_id, first.run_id]
        assert [run.id for run in archive.list_runs(recipe="a").runs] == [first.run_id]
        failed = archive.list_runs(status="failed")
        assert failed.total == 1 and failed.runs[0].error == "ValueError: boom"
        assert archive.list_runs(limit=1).total == 2

        first.record_tensors(5, {"x": np.zeros(500_000, np.float32)})  # 2 MB
        assert archive.writer.flush(30)
        before = archive.size_bytes()
        archive.delete_run(first.run_id)
        assert not (archive.tensors_dir / first.run_id).exists()
        assert archive.size_bytes() < before
        with pytest.raises(ArchivedRunNotFound, match=first.run_id):
            archive.get_run(first.run_id)
        with pytest.raises(ArchivedRunNotFound):
            archive.delete_run(first.run_id)


def test_a_run_being_recorded_cannot_be_deleted(tmp_path: Path) -> None:
    with RunArchive(tmp_path) as archive:
        recorder = _record(archive, 3)
        assert archive.writer.flush(30)
        with pytest.raises(ArchivedRunActive, match="still being recorded"):
            archive.delete_run(recorder.run_id)
        # A second archive of the same directory in the same live process leaves it running.
        with RunArchive(tmp_path) as again:
            assert again.get_run(recorder.run_id).status == "running"
        recorder.finish(RunStatus.STOPPED)
        assert archive.writer.flush(30)
        archive.delete_run(recorder.run_id)


def test_the_size_cap_prunes_the_oldest_kept_tensors_first_and_keeps_scalars(
    tmp_path: Path,
) -> None:
    with RunArchive(tmp_path) as archive:
        old, new = _record(archive, 3), _record(archive, 3)
        for recorder in (old, new):
            for step in (1, 2, 3):
                recorder.record_tensors(step, {"x": np.zeros(50_000, np.float32)})
        assert archive.writer.flush(30)
        size = archive.size_bytes()
        dropped = archive.prune(size - 300_000)  # room for all but ~1.5 of six 200 kB files
        assert dropped == [(old.run_id, 1), (old.run_id, 2)]
        assert archive.get_run(old.run_id).kept_steps == (3,)
        assert archive.get_run(new.run_id).kept_steps == (1, 2, 3)
        assert archive.history(old.run_id).history.steps.tolist() == [1, 2, 3]
    with RunArchive(tmp_path / "capped", max_bytes=1) as capped:  # the writer prunes on its own
        recorder = _record(capped, 2)
        recorder.record_tensors(2, {"x": np.zeros(1000, np.float32)})
        assert capped.writer.flush(30)
        assert capped.get_run(recorder.run_id).kept_steps == ()


_DIE_MID_RUN = """
import os, sys
from acc.archive.recorder import RunRecorder
from acc.archive.store import RunArchive
archive = RunArchive(sys.argv[1])
recorder = RunRecorder(archive, recipe="r", condition="c")
for step in range(1, 31):
    recorder.record_step(step, {"loss": 1.0 / step})
archive.writer.flush(30)
print(recorder.run_id, flush=True)
os._exit(0)  # no finish, no close: as if killed
"""


def test_a_run_whose_process_died_is_interrupted_with_its_flushed_scalars(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_DIE_MID_RUN), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    run_id = done.stdout.strip()
    with RunArchive(tmp_path) as archive:
        run = archive.get_run(run_id)
        assert run.status == "interrupted" and run.steps == 30 and run.last_step == 30
        assert run.ended_at is not None and run.ended_at >= run.started_at
        assert archive.history(run_id).history.steps.size == 30


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda root: root.joinpath("runs.sqlite").write_text("hello, not a database\n" * 100),
            "damaged or not a database",
        ),
        (lambda root: root.joinpath("runs.sqlite").mkdir(), "is not a file"),
        (lambda root: _foreign_database(root / "runs.sqlite"), "not an acc runs database"),
        (lambda root: _newer_database(root / "runs.sqlite"), "written by a newer acc"),
        (lambda root: _truncated_database(root), "damaged or not a database"),
    ],
    ids=["text file", "directory", "foreign database", "newer schema", "truncated"],
)
def test_a_damaged_or_foreign_database_is_a_clear_error_and_records_nothing(
    tmp_path: Path, make: object, message: str
) -> None:
    root = tmp_path / "runs"
    root.mkdir()
    make(root)  # type: ignore[operator]
    archive = RunArchive(root)
    with pytest.raises(ArchiveError, match=message) as raised:
        archive.list_runs()
    assert str(root / "runs.sqlite") in str(raised.value)
    recorder = _record(archive, 3)  # the training goes on; nothing is written
    recorder.finish()
    assert archive.writer.flush(5) and archive.writer.dropped >= 4
    archive.close()


def test_a_runs_dir_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ArchiveError, match="is a file, not a directory"):
        RunArchive(tmp_path / "file").check()


def _foreign_database(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (text TEXT)")


def _newer_database(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE runs (id TEXT)")
        db.execute("PRAGMA user_version = 99")


def _truncated_database(root: Path) -> None:
    with RunArchive(root / "whole") as whole:
        _record(whole, 300).finish()
    data = (root / "whole" / "runs.sqlite").read_bytes()
    (root / "runs.sqlite").write_bytes(data[: len(data) // 3])


def test_the_recorder_records_a_trainer_loop_and_its_failure(tmp_path: Path) -> None:
    model = torch.nn.Linear(4, 1)

    def batches():  # type: ignore[no-untyped-def]
        index = 0
        while True:
            index += 1
            yield Batch(torch.randn(8, 4), torch.zeros(8, dtype=torch.long), 0, index, None)

    def loss_fn(output: object, batch: Batch) -> dict[str, torch.Tensor]:
        if batch.index == 13:
            raise FloatingPointError("step 13 blew up")
        assert isinstance(output, torch.Tensor)
        return {"loss": output.square().mean(), "part": output.abs().mean()}

    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.01), batches(), loss_fn)
    with RunArchive(tmp_path) as archive:
        recorder = RunRecorder(archive, recipe="linear", kind=RunKind.ATTACHED)
        trainer.train(10, callbacks=[recorder])
        with pytest.raises(FloatingPointError):
            trainer.train(10, callbacks=[recorder])
        recorder.finish(RunStatus.FAILED, "FloatingPointError: step 13 blew up")
        assert archive.writer.flush(30)
        run = archive.get_run(recorder.run_id)
        assert (run.kind, run.status, run.steps, run.last_step) == (
            "attached loop",
            "failed",
            12,
            12,
        )
        assert [event["kind"] for event in run.events] == ["failure"]
        assert run.events[0]["step"] == 13 and "blew up" in run.events[0]["message"]
        history = archive.history(run.id)
        assert set(history.history.columns) == {"loss", "part"}
        assert history.history.failed[0].step == 13


def test_a_loop_that_hands_over_plain_numbers_is_recorded(tmp_path: Path) -> None:
    # An attached loop's callbacks see the scalars the user's loop gave, as floats.
    with RunArchive(tmp_path) as archive:
        recorder = RunRecorder(archive, recipe="user loop", kind=RunKind.ATTACHED)
        recorder.on_train_start()
        for step in (1, 2):
            info = SimpleNamespace(step=step, losses={"loss": 1.0 / step, "accuracy": 0.5})
            recorder.on_step_end(cast(StepInfo, info))
        recorder.close()  # closed without finish: it ended normally
        assert archive.writer.flush(30)
        run = archive.get_run(recorder.run_id)
        assert (run.status, run.steps, run.final_loss) == ("completed", 2, 0.5)
        assert archive.run_keys(run.id) == ("accuracy", "loss")


def test_the_seat_records_free_runs_and_inspector_sessions(
    tmp_path: Path, mnist: MnistData
) -> None:
    archive = RunArchive(tmp_path)
    seat = ModelSeat(mnist, archive=archive)
    try:
        session = seat.setup_session("gradient_gating_l0", "bcl-fast", 0)
        assert [type(watcher) for watcher in session._callbacks] == [SessionRecorder]
        session.step(3)
        session.step(2)
        seat.teardown_session()
        run = seat.start_run("gradient_gating_l0", "control", 25, capture_every=10)
        assert [type(watcher) for watcher in run._watchers] == [FreeRunRecorder]
        assert run.wait(120)
        paused = seat.start_run("gradient_gating_l0", "control", 100_000)
        assert paused.pause(60)
        paused.step(2)
        seat.stop_run()
        assert archive.writer.flush(30)

        inspector = archive.get_run(session.session_id)
        assert (inspector.kind, inspector.status, inspector.steps) == (
            "inspector session",
            "completed",
            5,
        )
        assert inspector.kept_steps == (1, 2, 3, 4, 5)
        assert archive.kept_step(session.session_id, 5).arrays["encoder_weights"].shape[0] > 0
        free = archive.get_run(run.run_id)
        assert (free.kind, free.recipe, free.condition) == (
            "free run",
            "gradient_gating_l0",
            "control",
        )
        assert (free.status, free.steps, free.last_step) == ("completed", 25, 25)
        assert free.options["steps"] == 25 and free.kept_steps == (10, 20)
        history = archive.history(run.run_id, keys=["loss", "weight_cosine_mean"])
        assert history.history.steps.tolist() == list(range(1, 26))
        assert np.isfinite(history.history.columns["loss"]).all()
        stopped = archive.get_run(paused.run_id)
        assert stopped.status == "stopped" and stopped.steps == stopped.last_step
        assert [event["kind"] for event in stopped.events] == ["pause"]
        assert stopped.events[0]["step"] == stopped.last_step - 2  # then two steps taken
        assert [run.id for run in archive.list_runs().runs] == [
            paused.run_id,
            run.run_id,
            session.session_id,
        ]
    finally:
        seat.close()
        archive.close()
