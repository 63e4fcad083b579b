"""`acc run vqvae`, checkpoints loaded with weights_only, and `acc codebook-report`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from acc.cli import main
from acc.data import MnistData
from acc.vq.checkpoint import CheckpointError, load_checkpoint

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
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["codebook-report", "--out", str(tmp_path)]) == 0
    assert "the codebook analysis was skipped" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pip-freeze.txt", "selftest.txt"]


def test_bad_checkpoints_are_refused_without_running_their_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["codebook-report", "--checkpoint", str(tmp_path / "nope.pt"), "--out", str(tmp_path)])
        == 2
    )
    assert "nope.pt does not exist" in capsys.readouterr().err
    evil = tmp_path / "evil.pt"
    torch.save({"format": "acc-vqvae-1", "payload": Path("/")}, evil)  # not weights-only
    with pytest.raises(CheckpointError, match="evil.pt is not a loadable checkpoint"):
        load_checkpoint(evil)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    with pytest.raises(CheckpointError, match="not an acc VQ-VAE checkpoint"):
        load_checkpoint(other)
