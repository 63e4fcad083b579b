"""kill -9 of `acc serve` in the middle of a free run, several times over: after each restart the
run is listed `interrupted` with its scalars up to at most 100 steps before the last step the
API reported, and the database passes SQLite's integrity check."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
KILLS = 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _call(url: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def _serve(runs_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "acc.cli",
            "serve",
            "--port",
            str(port),
            "--runs-dir",
            str(runs_dir),
        ],
        cwd=ROOT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:  # the server answers once torch is imported and the data loaded
        assert process.poll() is None, "acc serve exited before serving"
        assert time.monotonic() < deadline, "acc serve did not answer within 120 s"
        try:
            _call(url + "/health")
            return process, url
        except OSError:
            time.sleep(0.2)


def _kill(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)


def _wait_for_step(url: str, at_least: int) -> int:
    deadline = time.monotonic() + 120
    while True:
        step = int(_call(url + "/runs/current")["step"])
        if step >= at_least:
            return step
        assert time.monotonic() < deadline, f"the run reached step {step} only"
        time.sleep(0.1)


def test_kill_9_mid_run_leaves_an_interrupted_run_with_its_scalars(tmp_path: Path) -> None:
    runs_dir = tmp_path / "runs"
    reported: dict[str, int] = {}
    for kill in range(KILLS):
        process, url = _serve(runs_dir)
        try:
            run = _call(
                url + "/runs",
                {"recipe": "gradient_gating_l0", "condition": "control", "steps": 1_000_000},
            )
            # Each time a little later: the kill lands at a different point of the writer's cycle.
            reported[run["run_id"]] = _wait_for_step(url, 150 + 170 * kill)
        finally:
            _kill(process)

    process, url = _serve(runs_dir)
    try:
        listed = _call(url + "/archive/runs")
        runs = {run["id"]: run for run in listed["runs"]}
        assert set(runs) == set(reported)
        for run_id, step in reported.items():
            run = runs[run_id]
            assert run["status"] == "interrupted", run
            assert step - 100 <= run["last_step"], (step, run)
            history = _call(f"{url}/archive/runs/{run_id}/history?keys=loss")
            assert history["steps"] == list(range(1, run["last_step"] + 1))
            assert all(value is not None for value in history["columns"]["loss"])
    finally:
        process.terminate()
        process.wait(60)
    with sqlite3.connect(runs_dir / "runs.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
