"""`acc serve`: binds loopback by default and warns when told to bind anything else."""

from __future__ import annotations

import json
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


def _serve_until_healthy(host: str, *flags: str, then: str | None = None) -> str:
    """Start `acc serve --host HOST FLAGS`, wait for /health on loopback, POST to `then` if given,
    stop it; its stderr (and the answer of `then`)."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "acc.cli", "serve", "--host", host, "--port", str(port), *flags],
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
        answer = ""
        if then is not None:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{then}",
                data=b"{}",
                headers={"content-type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=60) as response:
                answer = response.read().decode()
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    return stderr + answer


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


def test_the_capture_budget_flags_reach_the_sessions() -> None:
    flags = ("--snapshots", "7", "--snapshot-mb", "64", "--history-steps", "5000")
    state = json.loads(
        _serve_until_healthy("127.0.0.1", *flags, "--vector-history", "300", then="/inspect/setup")
    )
    assert (state["max_full_snapshots"], state["max_snapshot_bytes"]) == (7, 64 * 2**20)
    assert (state["max_history_steps"], state["max_vector_history"]) == (5000, 300)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--vector-history", "0"], "--vector-history must be an integer >= 1, got '0'"),
        (["--snapshots", "many"], "--snapshots must be an integer >= 0, got 'many'"),
        (
            ["--history-steps", "5", "--vector-history", "10"],
            "1 <= max_vector_history <= max_history_steps, got 10 and 5",
        ),
    ],
)
def test_bad_budget_flags_are_refused_naming_the_value(flags: list[str], message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "acc.cli", "serve", "--port", str(_free_port()), *flags],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and message in done.stderr


def test_the_budget_flags_are_parsed_and_shown_without_importing_torch_first() -> None:
    """They are added to `acc serve` on first use (their defaults live beside torch code)."""
    from acc.cli import build_parser
    from acc.step_inspector import DEFAULT_MAX_VECTOR_HISTORY

    args = build_parser().parse_args(["serve", "--snapshots", "3"])
    assert (args.snapshots, args.vector_history) == (3, DEFAULT_MAX_VECTOR_HISTORY)
    done = subprocess.run(
        [sys.executable, "-m", "acc", "serve", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "--vector-history" in done.stdout
    assert f"(default {DEFAULT_MAX_VECTOR_HISTORY})" in done.stdout
