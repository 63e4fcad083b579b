"""`acc run vqvae`, checkpoints loaded with weights_only, and `acc codebook-report`."""

from __future__ import annotations

import io
import json
import os
import shutil
import time
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from acc.cli import build_parser, main
from acc.data import MnistData
from acc.recipes.vqvae import OPTIONS
from acc.recipes.vqvae.checkpoint import CheckpointError, load_checkpoint
from acc.recipes.vqvae.health import CodebookHealth
from acc.recipes.vqvae.report import write_report

REPORT_FIELDS = {
    "active_codes",
    "usage_ratio",
    "most_used",
    "least_used",
    "perplexity_mean",
    "perplexity_std",
    "dead_codes",
    "transition_entropy",
    "run_lengths",
    "clusters",
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, mnist: MnistData) -> Path:
    out = tmp_path_factory.mktemp("vq")
    code = main(
        ["run", "vqvae", "--condition", "ema", "--steps", "12", "--levels", "2", "--out", str(out)]
    )
    assert code == 0
    return out


def test_run_without_a_condition_with_a_chosen_codebook_size(
    mnist: MnistData, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "vqvae", "--steps", "2", "--levels", "2", "--num-codes", "32"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["condition"] == "ema"  # the recipe's default condition
    assert summary["config"]["num_codes"] == 32 and summary["config"]["auto_num_codes"] is False
    assert "vqvae ema seed 0: 2 steps" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--num-codes", "8"], "--num-codes must be an integer in 16..512 or \"auto\", got '8'"),
        (["--num-codes", "many"], '--num-codes must be an integer in 16..512 or "auto"'),
        (["--levels", "1"], "--levels must be an integer in 2..4, got '1'"),
        (["--commitment", "11"], "--commitment must be a number in 0..10, got '11'"),
        (["--wasserstein-epsilon", "0"], "--wasserstein-epsilon must be a number in 0.001..10"),
    ],
)
def test_bad_vq_options_exit_2_naming_the_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", "vqvae", "--steps", "1", "--out", str(tmp_path), *flags])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_the_vq_options_come_from_the_recipe(capsys: pytest.CaptureFixture[str]) -> None:
    """`acc run vqvae`'s defaults and ranges are the recipe's OPTIONS (as the API's are): a flag
    not given leaves the recipe's default in force, and the help names it."""
    args = build_parser().parse_args(["run", "vqvae", "--steps", "1"])
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--help"])
    # The vqvae group of the help, its wrapped lines joined.
    usage = " ".join(capsys.readouterr().out.split("vqvae options:", 1)[1].split())
    for name, spec in OPTIONS.items():
        assert not hasattr(args, name), name
        flag = "--" + name.replace("_", "-")
        assert flag in usage
        if spec.kind != "bool":
            default = "auto" if spec.default is None else f"{spec.default:g}"
            assert f"default {default})" in usage.split(flag + " ", 1)[1].split(" --", 1)[0], name
            flag = "--" + name.replace("_", "-")
            top = f"{spec.high:g}"
            assert (
                getattr(build_parser().parse_args(["run", "x", "--steps", "1", flag, top]), name)
                == spec.high
            )
            with pytest.raises(SystemExit):
                build_parser().parse_args(["run", "x", "--steps", "1", flag, f"{spec.high * 2:g}"])
    capsys.readouterr()


def test_an_option_of_another_recipe_exits_2_naming_its_recipe(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "gradient_gating_l0", "--steps", "1", "--levels", "3"]
    assert main([*argv, "--out", str(tmp_path)]) == 2
    assert (
        "--levels is an option of recipe vqvae, not gradient_gating_l0" in capsys.readouterr().err
    )
    assert not (tmp_path / "summary.json").exists()


def test_run_prints_the_codebook_warnings_of_the_dashboard(
    mnist: MnistData,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The dashboard's rules without their 100-step warm-up, so a short run already warns.
    monkeypatch.setattr(
        "acc.recipes.vqvae.capture.CodebookHealth", partial(CodebookHealth, warmup_steps=0)
    )
    argv = ["run", "vqvae", "--condition", "collapse", "--steps", "3", "--levels", "2"]
    assert main([*argv, "--num-codes", "16", "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert any("utilisation" in w and "is below 30%" in w for w in summary["warnings"])
    err = capsys.readouterr().err
    printed = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert printed == [f"warning: {warning}" for warning in summary["warnings"]]


def test_run_writes_a_summary_and_a_checkpoint(trained: Path) -> None:
    summary = json.loads((trained / "summary.json").read_text())
    assert [level["level"] for level in summary["levels"]] == [1, 2]
    assert summary["config"]["num_codes"] == 128 and summary["steps"] == 12
    model, meta = load_checkpoint(trained / "checkpoint.pt")
    assert meta["step"] == 12 and model.num_levels == 2 and not model.training


def test_report_writes_the_analysis_and_a_picture(trained: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    code = main(
        [
            "codebook-report",
            "--checkpoint",
            str(trained / "checkpoint.pt"),
            "--out",
            str(out),
            "--max-batches",
            "3",
        ]
    )
    assert code == 0
    analysis = json.loads((out / "codebook_analysis.json").read_text())
    assert analysis["images_analysed"] == 3 * 128 and len(analysis["levels"]) == 2
    for level in analysis["levels"]:
        assert set(level) >= REPORT_FIELDS
        assert 0 < level["usage_ratio"] <= 1
        assert sum(c["size"] for c in level["clusters"]) == 128
    assert "never across images" in analysis["transitions_rule"]
    picture = np.asarray(Image.open(io.BytesIO((out / "codebook_visualization.png").read_bytes())))
    assert picture.ndim == 3 and picture.std() > 10  # decodes, and is not blank
    assert json.loads((out / "selftest.txt").read_text())["shape"] == [32, 64, 1, 100]
    assert (out / "pip-freeze.txt").read_text().strip()


def test_report_without_a_checkpoint_says_it_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no runs/vqvae/ here
    out = tmp_path / "report"
    assert main(["codebook-report", "--out", str(out)]) == 0
    assert "the codebook analysis was skipped" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["pip-freeze.txt", "selftest.txt"]


def test_report_with_a_missing_checkpoint_skips_the_analysis_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.pt"
    assert main(["codebook-report", "--checkpoint", str(missing), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"checkpoint {missing} does not exist: the codebook analysis was skipped" in out
    assert "self-test: shape [32, 64, 1, 100]" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pip-freeze.txt", "selftest.txt"]


def test_report_without_a_checkpoint_uses_the_newest_run(
    trained: Path,
    mnist: MnistData,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("acc.data.load_mnist", lambda *args, **kwargs: mnist)
    monkeypatch.chdir(tmp_path)
    for age, run in ((100, "ema-seed0"), (0, "learned-seed1"), (200, "collapse-seed0")):
        target = Path("runs/vqvae") / run / "checkpoint.pt"
        target.parent.mkdir(parents=True)
        shutil.copy(trained / "checkpoint.pt", target)
        stamp = time.time() - age
        os.utime(target, (stamp, stamp))
    assert main(["codebook-report", "--out", "report", "--max-batches", "1"]) == 0
    newest = Path("runs/vqvae/learned-seed1/checkpoint.pt")
    assert f"using {newest}, the newest checkpoint in runs/vqvae" in capsys.readouterr().out
    analysis = json.loads(Path("report/codebook_analysis.json").read_text())
    assert analysis["checkpoint"] == str(newest)


def test_the_picture_covers_every_level_and_has_a_title(
    trained: Path, mnist: MnistData, tmp_path: Path
) -> None:
    result = write_report(tmp_path, mnist, trained / "checkpoint.pt", 2)
    figure = result["figure"]
    assert figure["title"].startswith(f"Codebook of {trained / 'checkpoint.pt'} at step 12")
    assert "2 levels × 128 codes" in figure["title"]
    assert len(figure["panels"]) == 2  # one row per level
    for level, row in enumerate(figure["panels"], start=1):
        assert len(row) == 6 and all(title.startswith(f"Level {level}:") for title in row)
    with Image.open(tmp_path / "codebook_visualization.png") as picture:
        assert picture.height > 2 * 3.6 * 70  # two rows of panels


def test_bad_checkpoints_are_refused_without_running_their_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    assert main(["codebook-report", "--checkpoint", str(broken), "--out", str(tmp_path)]) == 2
    assert "broken.pt is not a loadable checkpoint" in capsys.readouterr().err
    evil = tmp_path / "evil.pt"
    torch.save({"format": "acc-vqvae-1", "payload": Path("/")}, evil)  # not weights-only
    with pytest.raises(CheckpointError, match="evil.pt is not a loadable checkpoint"):
        load_checkpoint(evil)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    with pytest.raises(CheckpointError, match="not an acc VQ-VAE checkpoint"):
        load_checkpoint(other)
