from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.testclient import TestClient

from acc.api.app import create_app
from acc.api.server import server_config
from acc.data import MnistData
from acc.settings import Settings
from tests.api.local_client import local_client


@pytest.fixture
def app(mnist: MnistData) -> Starlette:
    return create_app(settings=Settings(device="cpu"), data=mnist)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    # As a context manager the app's lifespan runs: its shutdown tears the inspector session down.
    with local_client(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def live_url(app: Starlette) -> Iterator[str]:
    """The app on a real uvicorn server in a thread, on a free port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(server_config(app, "127.0.0.1", port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(20)
