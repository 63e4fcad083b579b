"""The CPU threads training uses: every core but one unless told otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from acc.cpu_threads import THREADS_ENV, configured_threads, default_threads, use_threads


@pytest.mark.parametrize(("cores", "threads"), [(0, 1), (1, 1), (2, 1), (8, 7)])
def test_the_default_leaves_one_core_and_keeps_at_least_one(cores: int, threads: int) -> None:
    assert default_threads(cores) == threads  # 0: os.cpu_count() did not know


def test_the_environment_overrides_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(THREADS_ENV, "3")
    assert configured_threads() == 3
    monkeypatch.setenv(THREADS_ENV, " ")
    assert configured_threads() == default_threads()


@pytest.mark.parametrize("raw", ["0", "-2", "two", "1.5", "5000"])
def test_a_bad_environment_value_is_named(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv(THREADS_ENV, raw)
    with pytest.raises(
        ValueError, match=rf"ACC_THREADS must be an integer in 1\.\.1024, got '{raw}'"
    ):
        configured_threads()


def test_use_threads_sets_torchs_pool_and_refuses_zero() -> None:
    before = torch.get_num_threads()
    try:
        use_threads(1)
        assert torch.get_num_threads() == 1
        with pytest.raises(ValueError, match="got 0"):
            use_threads(0)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_serve_and_run_refuse_a_bad_environment_value_with_exit_2() -> None:
    for argv in (["serve", "--port", "1"], ["run", "gradient_gating_l0", "--steps", "1"]):
        done = subprocess.run(
            [sys.executable, "-m", "acc", *argv],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, THREADS_ENV: "many"},
        )
        assert done.returncode == 2, done.stderr
        assert (
            f"acc {argv[0]}: ACC_THREADS must be an integer in 1..1024, got 'many'" in done.stderr
        )
