from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from acc.api.app import create_app
from acc.data import MnistData
from acc.settings import Settings


@pytest.fixture
def app(mnist: MnistData) -> Starlette:
    return create_app(settings=Settings(device="cpu"), data=mnist)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    # As a context manager the app's lifespan runs: its shutdown tears the inspector session down.
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
