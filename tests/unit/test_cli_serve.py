"""`acc serve`: binds loopback by default and warns when told to bind anything else."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve_until_healthy(host: str) -> str:
    """Start `acc serve --host HOST`, wait for /health on loopback, stop it; its stderr."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "acc.cli", "serve", "--host", host, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, f"acc serve exited: {server.stderr.read()}"  # type: ignore[union-attr]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                    assert answer.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "acc serve did not answer /health"
                time.sleep(0.2)
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    return stderr


def test_default_host_is_loopback_without_a_warning() -> None:
    assert "warning" not in _serve_until_healthy("127.0.0.1")


@pytest.mark.parametrize("host", ["0.0.0.0"])
def test_another_host_prints_a_warning(host: str) -> None:
    stderr = _serve_until_healthy(host)
    assert f"warning: binding to {host} exposes the trainer API" in stderr


def test_the_parser_defaults_to_loopback() -> None:
    from acc.cli import build_parser

    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port) == ("127.0.0.1", 8787)
