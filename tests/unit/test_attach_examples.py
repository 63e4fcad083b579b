"""The examples run as the README says, with a few steps on a free port."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(name: str, args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", [name, *args])
    monkeypatch.syspath_prepend(str(EXAMPLES))
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    assert exit_info.value.code == 0


def test_own_loop_trains_and_ends(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_example("own_loop.py", ["--port", "0", "--steps", "15"], monkeypatch)
    out = capsys.readouterr().out
    assert "acc: watching SmallCNN at http://127.0.0.1:" in out
    assert "finished after 15 steps" in out


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.filterwarnings("ignore:.*LeafSpec.*:FutureWarning")
def test_lightning_example_trains_and_ends(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_example("lightning_module.py", ["--port", "0", "--steps", "6"], monkeypatch)
    out = capsys.readouterr().out
    assert "acc: watching DigitClassifier at http://127.0.0.1:" in out
    assert "finished after 6 steps" in out
