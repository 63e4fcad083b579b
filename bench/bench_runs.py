"""Benchmark of free runs (run by hand, prints figures; not part of the test suite).

    .venv/bin/python bench/bench_runs.py [--steps 600] [--repeats 5]

Steps/s of a bcl-med run: bare `Trainer.train` (no callbacks); with the capture pipeline only;
with the capture pipeline and a `DebugController` attached and running (a `FreeRun`); and a
`FreeRun` served over HTTP with an SSE client connected. The controller's own cost is also timed
per step directly. Then the pause latency (pause() → loop blocked at the boundary) and the latency
of one step while paused. Target: the attached-and-running overhead under 1%.
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
from pathlib import Path

import httpx2

from acc.data import MnistData, load_mnist
from acc.debug_controller import DebugController
from acc.free_run import FreeRun
from acc.recipes import get_recipe
from acc.session import Session

ROOT = Path(__file__).resolve().parents[1]


def steps_per_second(fn: object, steps: int) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return steps / (time.perf_counter() - start)


def bare(data: MnistData, steps: int) -> float:
    with get_recipe("gradient_gating_l0").build("bcl-med", 0, data) as setup:
        setup.trainer.train(20)
        return steps_per_second(lambda: setup.trainer.train(steps), steps)


def capture_only(data: MnistData, steps: int) -> float:
    with Session("gradient_gating_l0", "bcl-med", data=data, capture_every=10) as session:
        session.submit_train(20).result()
        return steps_per_second(lambda: session.submit_train(steps).result(), steps)


def free_run(data: MnistData, steps: int) -> float:
    run = FreeRun("gradient_gating_l0", "bcl-med", steps + 20, data=data, capture_every=10)
    try:
        while (run.session.inspector.last_step or 0) < 20:
            time.sleep(0.001)
        start_step, start = run.session.inspector.last_step or 0, time.perf_counter()
        run.wait()
        return (run.state().step - start_step) / (time.perf_counter() - start)
    finally:
        run.close()


def controller_cost_us(calls: int = 200_000) -> float:
    """Per-step cost of the controller's callbacks when running, in microseconds."""
    controller = DebugController()
    start = time.perf_counter()
    for step in range(calls):
        controller.end_step(step)
        controller.wait_if_paused()
    return (time.perf_counter() - start) / calls * 1e6


def latencies(data: MnistData, samples: int) -> tuple[list[float], list[float]]:
    run = FreeRun("gradient_gating_l0", "bcl-med", 1_000_000, data=data, capture_every=10)
    pause_ms: list[float] = []
    step_ms: list[float] = []
    try:
        for _ in range(samples):
            time.sleep(0.05)
            start = time.perf_counter()
            run.controller.pause()
            while not run.controller.state().blocked:
                time.sleep(0.0002)
            pause_ms.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            run.step(1)
            step_ms.append((time.perf_counter() - start) * 1000)
            run.controller.resume()
    finally:
        run.close()
    return pause_ms, step_ms


def with_sse(steps: int) -> float:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "acc.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx2.Client(base_url=url, timeout=120) as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    http.get("/health")
                    break
                except httpx2.TransportError:
                    assert time.monotonic() < deadline
                    time.sleep(0.1)
            events = {"count": 0}

            def listen() -> None:
                with (
                    httpx2.Client(base_url=url, timeout=None) as sse,
                    sse.stream("GET", "/runs/events") as stream,
                ):
                    for line in stream.iter_lines():
                        if line.startswith("event: steps"):
                            events["count"] += 1
                        if line.startswith("data:") and '"status":"completed"' in line:
                            return

            listener = threading.Thread(target=listen, daemon=True)
            listener.start()
            http.post(
                "/runs", json={"condition": "bcl-med", "steps": steps + 20}
            ).raise_for_status()
            while http.get("/runs/current").json()["step"] < 20:
                time.sleep(0.005)
            start_step = http.get("/runs/current").json()["step"]
            start = time.perf_counter()
            while (state := http.get("/runs/current").json())["status"] != "completed":
                time.sleep(0.05)
            elapsed = time.perf_counter() - start
            listener.join(10)
            print(f"{'  SSE steps events received':<46} {events['count']}")
            return (state["step"] - start_step) / elapsed
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    data = load_mnist()
    figures: dict[str, list[float]] = {"bare": [], "capture": [], "controller": []}
    for _ in range(args.repeats):  # interleaved, so drifts in machine load hit all three alike
        figures["bare"].append(bare(data, args.steps))
        figures["capture"].append(capture_only(data, args.steps))
        figures["controller"].append(free_run(data, args.steps))
    median = {name: statistics.median(values) for name, values in figures.items()}
    print(f"{'bare Trainer.train (bcl-med)':<46} {median['bare']:8.1f} steps/s")
    print(f"{'with capture (history every step, full /10)':<46} {median['capture']:8.1f} steps/s")
    print(f"{'with capture + DebugController (FreeRun)':<46} {median['controller']:8.1f} steps/s")
    overhead = (median["capture"] / median["controller"] - 1) * 100
    print(f"{'controller overhead, run vs run':<46} {overhead:8.2f} %  (noise of the machine)")
    cost = controller_cost_us()
    step_us = 1e6 / median["controller"]
    print(
        f"{'controller callbacks per step, timed alone':<46} {cost:8.2f} µs"
        f" = {cost / step_us * 100:.3f} % of a step  (target < 1 %)"
    )
    print(f"{'FreeRun over HTTP with an SSE client':<46} {with_sse(args.steps * 2):8.1f} steps/s")
    pause_ms, step_ms = latencies(data, 20)
    print(
        f"{'pause latency (request → loop blocked)':<46} median {statistics.median(pause_ms):6.2f} ms"
        f"   max {max(pause_ms):6.2f} ms"
    )
    print(
        f"{'one step while paused (grant → blocked again)':<46} median "
        f"{statistics.median(step_ms):6.2f} ms   max {max(step_ms):6.2f} ms"
    )


if __name__ == "__main__":
    main()
