"""Benchmark of the inspector pipe (run by hand, prints figures; not part of the test suite).

    .venv/bin/python bench/bench_inspect.py [--steps 40]

Measures, for bcl-med on this machine: a bare training step; `Session.step(1)` with full capture;
full capture + binary encoding; `POST /inspect/step n=1` end to end over HTTP with the binary
frame and with JSON (against a real `acc serve` process); the response sizes; and `/health`
latency while a Step x50 runs. Targets: capture + binary encoding at most 3x the bare
step; n=1 over HTTP with the frame under 50 ms median; the frame under 2 MB.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx2

from acc.data import load_mnist
from acc.recipes import get_recipe
from acc.session import Session
from acc.tensor_wire import FRAME_CONTENT_TYPE, step_to_frame, step_to_json

ROOT = Path(__file__).resolve().parents[1]


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def report(name: str, times: list[float]) -> float:
    median = statistics.median(times)
    p90 = sorted(times)[int(0.9 * (len(times) - 1))]
    print(f"{name:<44} median {median:7.2f} ms   p90 {p90:7.2f} ms   (n={len(times)})")
    return median


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40, help="measured steps per figure")
    args = parser.parse_args()
    data = load_mnist()
    n = args.steps

    setup = get_recipe("gradient_gating_l0").build("bcl-med", 0, data, "cpu")
    with Session("gradient_gating_l0", "bcl-med", data=data) as session:
        setup.trainer.train(5)  # warm-up
        session.step(5)
        times: dict[str, list[float]] = {"bare": [], "capture": [], "frame": []}
        # Interleaved, so that a change in the machine's load hits the three figures alike.
        for _ in range(n):
            times["bare"] += timed(lambda: setup.trainer.train(1), 1)
            times["capture"] += timed(lambda: session.step(1), 1)
            times["frame"] += timed(lambda: step_to_frame(session.step(1)), 1)
        bare = report("bare training step (bcl-med)", times["bare"])
        captured = report("Session.step(1), full capture", times["capture"])
        encoded = report("Session.step(1) + binary frame", times["frame"])
        last = session.step(1)
        frame, body = step_to_frame(last), step_to_json(last)
        report("  binary frame encoding alone", timed(lambda: step_to_frame(last), n))
        report("  JSON encoding alone", timed(lambda: step_to_json(last), n))
        print(f"{'captured bytes per step (host arrays)':<44} {last.nbytes / 1e6:7.2f} MB")
    setup.close()
    added = (encoded - bare) / bare
    print(f"{'capture + binary encoding adds':<44} {added:7.2f} x the bare step (target <= 3)")
    print(f"{'capture alone adds':<44} {(captured - bare) / bare:7.2f} x the bare step")

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "acc.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        with httpx2.Client(base_url=url, timeout=120) as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    http.get("/health")
                    break
                except httpx2.TransportError:
                    assert time.monotonic() < deadline, "acc serve did not start"
                    time.sleep(0.1)
            http.post("/inspect/setup", json={"condition": "bcl-med"}).raise_for_status()
            http.post("/inspect/step", json={"n": 5})
            sizes: dict[str, int] = {}

            def post(accept: str) -> None:
                response = http.post("/inspect/step", json={"n": 1}, headers={"accept": accept})
                response.raise_for_status()
                sizes[accept] = len(response.content)

            def get_stored(step: int) -> None:
                response = http.get(f"/inspect/step/{step}", headers={"accept": FRAME_CONTENT_TYPE})
                response.raise_for_status()

            frame_ms = report(
                "POST /inspect/step n=1, binary frame", timed(lambda: post(FRAME_CONTENT_TYPE), n)
            )
            report("POST /inspect/step n=1, JSON", timed(lambda: post("application/json"), n))
            report(
                "GET /inspect/step/{k}, binary frame (stored)",
                timed(lambda: get_stored(5 + 2 * n), n),
            )
            print(
                f"{'response size, binary frame':<44} {sizes[FRAME_CONTENT_TYPE] / 1e6:7.3f} MB"
                f"  (target < 2 MB; {len(frame) / 1e6:.3f} MB in-process)"
            )
            print(
                f"{'response size, JSON':<44} {sizes['application/json'] / 1e6:7.3f} MB"
                f"  ({len(body) / 1e6:.3f} MB in-process)"
            )
            print(f"{'n=1 over HTTP with the frame':<44} {frame_ms:7.2f} ms  (target < 50 ms)")

            done = threading.Event()

            def long_step() -> None:
                with httpx2.Client(base_url=url, timeout=120) as other:
                    other.post("/inspect/step", json={"n": 50})
                done.set()

            threading.Thread(target=long_step).start()
            time.sleep(0.2)
            during: list[float] = []
            while not done.is_set():
                during += timed(lambda: http.get("/health"), 1)
                time.sleep(0.02)
            report("GET /health while a Step x50 runs", during)
            print(f"{'  max':<44} {max(during):7.2f} ms  (target < 100 ms)")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)


if __name__ == "__main__":
    main()
