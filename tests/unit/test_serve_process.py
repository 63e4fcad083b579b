"""`acc serve` as a process: it shuts down promptly with event streams open, refuses data it
cannot train on with one line, and answers only the hosts it is told to."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from acc.data import write_idx

SHUTDOWN_BOUND_S = 3.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(*flags: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], int]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "acc.cli", "serve", "--port", str(port), *flags],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    deadline = time.monotonic() + 60
    while True:
        assert server.poll() is None, f"acc serve exited: {server.stderr.read()}"  # type: ignore[union-attr]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                return server, port
        except OSError:
            assert time.monotonic() < deadline, "acc serve did not answer /health"
            time.sleep(0.2)


def _post(port: int, path: str, body: bytes = b"{}") -> bytes:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=body, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return bytes(answer.read())


def _open_event_stream(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(
        b"GET /runs/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
    )
    sock.settimeout(30)
    received = b""
    while b"event: state" not in received:
        chunk = sock.recv(65536)
        assert chunk, f"the stream closed before its first event: {received!r}"
        received += chunk
    return sock


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_the_server_with_event_streams_open(sig: signal.Signals) -> None:
    server, port = _start()
    try:
        _post(port, "/runs", b'{"steps": 1000000, "condition": "bcl-med"}')
        streams = [_open_event_stream(port) for _ in range(3)]
        sent = time.monotonic()
        server.send_signal(sig)
        _, stderr = server.communicate(timeout=30)
        took = time.monotonic() - sent
        for stream in streams:
            stream.close()
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert server.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert took < SHUTDOWN_BOUND_S, f"the server took {took:.1f} s to exit"


def test_allow_host_widens_the_hosts_answered() -> None:
    server, port = _start("--allow-host", "gpu-box.lan", env={"ACC_ALLOW_HOSTS": "other.lan"})
    try:
        for host, status in (("gpu-box.lan", 200), ("other.lan:1", 200), ("evil.example", 403)):
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.sendall(f"GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
                sock.settimeout(30)
                assert sock.recv(64).startswith(f"HTTP/1.1 {status}".encode()), host
    finally:
        server.terminate()
        server.communicate(timeout=30)


def _serve_once(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "acc.cli", "serve", "--port", str(_free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "ACC_DATA_DIR": str(data_dir)},
    )


def test_a_training_set_smaller_than_a_batch_is_refused_at_startup(tmp_path: Path) -> None:
    images = np.zeros((50, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(50, dtype=np.uint8))
    done = _serve_once(tmp_path)
    assert done.returncode == 2
    assert "has 45 images, fewer than one batch of 128" in done.stderr  # 10% split off for eval
    assert "Traceback" not in done.stderr


def test_a_gz_file_that_is_not_gzip_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"not deflate" * 9)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(50, dtype=np.uint8))
    done = _serve_once(tmp_path)
    assert done.returncode == 2
    assert "cannot read IDX file" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("value", ["١٢", "１２", "1_2", "+12", " 12 "])
def test_integer_flags_take_ascii_digits_only(value: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "acc.cli", "serve", "--snapshots", value],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and f"--snapshots must be an integer >= 0, got {value!r}" in (
        done.stderr
    )
