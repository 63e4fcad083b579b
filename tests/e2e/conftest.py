"""Real servers on free ports and a real headless Chromium for the end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_answers(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode} before serving")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@dataclass
class Server:
    """A child process serving HTTP; stopping it ends its whole process group."""

    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def get_json(server: Server, path: str) -> dict[str, Any]:
    """GET `path` of a running server and its JSON answer."""
    with urllib.request.urlopen(server.url + path, timeout=120) as answer:
        data: dict[str, Any] = json.load(answer)
        return data


def post_json(server: Server, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST `body` as JSON to `path` of a running server and its JSON answer."""
    request = urllib.request.Request(
        server.url + path,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as answer:
        data: dict[str, Any] = json.load(answer)
        return data


def start_server(command: list[str], url: str, probe: str, env: dict[str, str]) -> Server:
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, start_new_session=True)
    server = Server(url, process)
    try:
        wait_until_answers(url + probe, process)
    except BaseException:
        server.stop()
        raise
    return server


def start_trainer() -> Server:
    """`acc serve` on a free port, answering /health."""
    port = free_port()
    return start_server(
        [sys.executable, "-m", "acc.cli", "serve", "--port", str(port)],
        f"http://127.0.0.1:{port}",
        "/health",
        {},
    )


@pytest.fixture
def trainer() -> Iterator[Server]:
    server = start_trainer()
    yield server
    server.stop()


@pytest.fixture
def dashboard(trainer: Server) -> Iterator[Server]:
    port = free_port()
    server = start_server(
        ["./run_ui.sh", "--port", str(port), "--trainer", trainer.url],
        f"http://127.0.0.1:{port}",
        "/",
        {},
    )
    yield server
    server.stop()


# Per test package (tests/e2e, tests/packaging), not per session: Playwright's sync API keeps an
# event loop on the main thread while it lives, and the unit tests after them run their own.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(
        executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    yield tab
    context.close()
