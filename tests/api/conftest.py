from __future__ import annotations

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
def client(app: Starlette) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)
