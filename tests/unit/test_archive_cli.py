"""`acc runs list` and `acc runs export`, and a recorded headless loop (what `acc run` records)
appearing in them; bad ids and damaged runs directories are a message and exit 2."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from acc.archive.recorder import recording
from acc.cli import build_parser, main
from acc.data import MnistData
from acc.recipes import get_recipe


def _headless_run(runs_dir: Path, mnist: MnistData, steps: int = 50) -> str:
    setup = get_recipe("gradient_gating_l0").build("control", 0, mnist, "cpu")
    try:
        with recording(
            runs_dir,
            recipe="gradient_gating_l0",
            condition="control",
            options={"steps": steps},
            seed=0,
        ) as recorder:
            setup.trainer.train(steps, callbacks=[recorder], keep_results=False)
    finally:
        setup.close()
    return recorder.run_id


def test_a_recorded_loop_is_listed_and_exported(
    tmp_path: Path, mnist: MnistData, capsys: pytest.CaptureFixture[str]
) -> None:
    runs_dir = tmp_path / "runs"
    run_id = _headless_run(runs_dir, mnist)

    assert main(["runs", "list", "--runs-dir", str(runs_dir)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:4] == ["ID", "KIND", "RECIPE", "CONDITION"]
    row = next(line for line in table if line.startswith(run_id))
    assert "cli run" in row and "gradient_gating_l0" in row and " 50 " in row
    assert row.rstrip().endswith("completed") and table[-1].startswith("1 run(s), ")

    out = tmp_path / "run.csv"
    assert main(["runs", "export", run_id, "--runs-dir", str(runs_dir), "--out", str(out)]) == 0
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert rows[0] == ["step", "wall", "loss"] and len(rows) == 51
    assert [int(row[0]) for row in rows[1:]] == list(range(1, 51))
    assert all(float(row[2]) > 0 for row in rows[1:])

    assert main(["runs", "export", run_id, "--runs-dir", str(runs_dir), "--format", "json"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["run"]["id"] == run_id and exported["run"]["status"] == "completed"
    assert exported["steps"] == list(range(1, 51)) and len(exported["columns"]["loss"]) == 50


def test_a_loop_that_raises_is_recorded_failed(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), recording(tmp_path, recipe="r") as recorder:
        recorder.record_step(1, {"loss": 1.0})
        raise RuntimeError("out of memory")
    assert main(["runs", "list", "--runs-dir", str(tmp_path), "--status", "failed"]) == 0


def test_errors_are_a_message_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["runs", "list", "--runs-dir", str(tmp_path / "missing")]) == 2
    assert "no runs directory at" in capsys.readouterr().err
    with recording(tmp_path / "runs", recipe="r"):
        pass
    assert main(["runs", "export", "nope", "--runs-dir", str(tmp_path / "runs")]) == 2
    assert "no archived run has id 'nope'" in capsys.readouterr().err
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "runs.sqlite").write_bytes(b"\x00garbage" * 1000)
    assert main(["runs", "list", "--runs-dir", str(damaged)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("acc runs list: ") and str(damaged / "runs.sqlite") in err
    assert "move it away or pick another runs directory" in err
    with pytest.raises(SystemExit) as exited:
        main(["runs", "export", "x", "--format", "xml"])
    assert exited.value.code == 2


def test_the_runs_dir_comes_from_the_flag_the_environment_or_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ACC_RUNS_DIR", raising=False)
    assert build_parser().parse_args(["serve"]).runs_dir == "acc-runs"
    assert build_parser().parse_args(["runs", "list"]).runs_dir == "acc-runs"
    monkeypatch.setenv("ACC_RUNS_DIR", "/elsewhere")
    assert build_parser().parse_args(["serve"]).runs_dir == "/elsewhere"
    parsed = build_parser().parse_args(["serve", "--runs-dir", "mine", "--runs-max-mb", "5"])
    assert (parsed.runs_dir, parsed.runs_max_mb) == ("mine", 5)
