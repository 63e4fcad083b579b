"""`acc run`: headless training of a recipe condition and its summary (`acc/headless_run.py`)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from acc.archive.store import RunArchive
from acc.cli import main
from acc.cpu_threads import configured_threads
from acc.data import MnistData
from acc.step_capture import cosine_matrix, mean_offdiagonal_cosine

CONDITIONS = ("control", "bcl-micro", "bcl-tiny", "bcl-slow", "bcl-med", "bcl-fast")


@pytest.fixture
def cli_data(mnist: MnistData, monkeypatch: pytest.MonkeyPatch) -> MnistData:
    """`acc run` loads MNIST itself; point it at the session's copy."""
    monkeypatch.setattr("acc.data.load_mnist", lambda *args, **kwargs: mnist)
    return mnist


def run_cli(argv: list[str]) -> int:
    threads = torch.get_num_threads()  # `acc run` sets the process's count: give it back
    try:
        return main(argv)
    except SystemExit as exit_:  # argparse errors
        return int(exit_.code or 0)
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize("condition", ["control", "bcl-med"])
def test_acc_run_trains_and_writes_its_summary(
    cli_data: MnistData, tmp_path: Path, capsys: pytest.CaptureFixture[str], condition: str
) -> None:
    out = tmp_path / "out"
    argv = ["run", "gradient_gating_l0", "--condition", condition, "--steps", "50"]
    assert run_cli([*argv, "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["recipe"] == "gradient_gating_l0" and summary["condition"] == condition
    assert summary["steps"] == 50 and summary["seed"] == 0
    assert math.isfinite(summary["final_loss"]) and 0 < summary["final_loss"] < 1
    assert -1 <= summary["weight_cosine_mean"] <= 1
    rates = summary["win_rates"]
    assert len(rates) == 64 and all(0 <= rate <= 1 for rate in rates)
    assert summary["win_rate_window"] == 50  # fewer steps than the 100-step window
    assert summary["dead_features"] == sum(rate < 0.01 for rate in rates)
    assert summary["dead_threshold"] == 0.01
    assert summary["steps_per_second"] > 0
    captured = capsys.readouterr()
    assert "steps/s" in captured.err and "loss" in captured.err  # the progress line
    assert f"weight cosine (mean)  {summary['weight_cosine_mean']:.4f}" in captured.out
    assert f"dead features         {summary['dead_features']} of 64" in captured.out
    assert str(out / "summary.json") in captured.out


def test_the_same_seed_gives_the_same_summary(cli_data: MnistData, tmp_path: Path) -> None:
    argv = ["run", "gradient_gating_l0", "--condition", "bcl-fast", "--steps", "5", "--seed", "2"]
    assert run_cli([*argv, "--out", str(tmp_path / "a")]) == 0
    assert run_cli([*argv, "--out", str(tmp_path / "b")]) == 0
    a, b = (json.loads((tmp_path / d / "summary.json").read_text()) for d in "ab")
    for key in ("final_loss", "weight_cosine_mean", "win_rates", "dead_features"):
        assert a[key] == b[key], key


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (
            ["run", "nope", "--condition", "control", "--steps", "5"],
            ["'nope'", "gradient_gating_l0"],
        ),
        (
            ["run", "gradient_gating_l0", "--condition", "bcl-huge", "--steps", "5"],
            ["'bcl-huge'", *CONDITIONS],
        ),
        (["run", "gradient_gating_l0", "--condition", "control", "--steps", "0"], ["'0'", ">= 1"]),
        (
            [
                "run",
                "gradient_gating_l0",
                "--condition",
                "control",
                "--steps",
                "5",
                "--threads",
                "0",
            ],
            ["--threads", "'0'", "1..1024"],
        ),
        (["run", "gradient_gating_l0", "--condition", "control", "--steps", "x"], ["'x'", ">= 1"]),
        (
            ["run", "gradient_gating_l0", "--condition", "control", "--steps", "5", "--seed", "-1"],
            ["'-1'", ">= 0"],
        ),
        (
            [
                "run",
                "gradient_gating_l0",
                "--condition",
                "control",
                "--steps",
                "5",
                "--device",
                "tpu",
            ],
            ["'tpu'", "cpu"],
        ),
    ],
)
def test_bad_values_exit_2_naming_the_value_and_the_allowed_ones(
    cli_data: MnistData,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    named: list[str],
) -> None:
    assert run_cli([*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    for text in named:
        assert text in err
    assert not (tmp_path / "summary.json").exists()


def test_mean_offdiagonal_cosine_matches_a_loop() -> None:
    weight = torch.randn(5, 7, generator=torch.Generator().manual_seed(0))
    rows = weight.tolist()
    cosines = []
    for f, u in enumerate(rows):
        for g, v in enumerate(rows):
            if f != g:
                dot = sum(a * b for a, b in zip(u, v, strict=True))
                norms = math.sqrt(sum(a * a for a in u)) * math.sqrt(sum(b * b for b in v))
                cosines.append(dot / norms)
    expected = sum(cosines) / len(cosines)
    assert float(mean_offdiagonal_cosine(weight)) == pytest.approx(expected, abs=1e-6)  # float32
    assert float(mean_offdiagonal_cosine(weight, torch.float64)) == pytest.approx(expected)
    identical = torch.ones(4, 3)
    assert float(mean_offdiagonal_cosine(identical)) == pytest.approx(1.0)
    with_zero = torch.cat([weight, torch.zeros(1, 7)])  # a zero row: cosine 0 with every row
    matrix = cosine_matrix(with_zero)
    from_matrix = (matrix.sum() - matrix.diagonal().sum()) / (6 * 5)
    assert float(mean_offdiagonal_cosine(with_zero)) == pytest.approx(float(from_matrix), abs=1e-6)


def test_run_without_a_condition_uses_the_recipes_default(
    cli_data: MnistData,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_cli(["run", "gradient_gating_l0", "--steps", "3"]) == 0
    summary_path = Path("runs/gradient_gating_l0/bcl-med-seed0/summary.json")
    assert json.loads(summary_path.read_text())["condition"] == "bcl-med"
    assert "gradient_gating_l0 bcl-med seed 0: 3 steps" in capsys.readouterr().out


def test_importing_the_cli_does_not_import_torch() -> None:
    """`acc --help` must answer at once: the CLI imports torch only inside its commands."""
    code = "import sys, acc, acc.cli; acc.cli.build_parser(); print('torch' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "False", done.stderr


@pytest.mark.parametrize("entry", [["-m", "acc"], ["-m", "acc.cli"]])
def test_version_and_python_dash_m(entry: list[str]) -> None:
    import acc

    done = subprocess.run(
        [sys.executable, *entry, "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout == f"acc {acc.__version__}\n"
    done = subprocess.run(
        [sys.executable, *entry, "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "codebook-report" in done.stdout


def test_acc_run_is_recorded_in_the_runs_archive(cli_data: MnistData, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    argv = ["run", "gradient_gating_l0", "--condition", "control", "--steps", "20"]
    assert run_cli([*argv, "--out", str(tmp_path / "out"), "--runs-dir", str(runs)]) == 0
    with RunArchive(runs) as archive:
        (run,) = archive.list_runs().runs
        assert (run.kind, run.recipe, run.condition, run.status) == (
            "cli run",
            "gradient_gating_l0",
            "control",
            "completed",
        )
        assert run.steps == 20 and run.options["steps"] == 20
        assert run.options["threads"] == configured_threads()  # CPU results depend on it
        summary = json.loads((tmp_path / "out" / "summary.json").read_text())
        history = archive.history(run.id, keys=["loss"]).history
        assert float(history.columns["loss"][-1]) == pytest.approx(summary["final_loss"])
