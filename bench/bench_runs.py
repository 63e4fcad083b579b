"""Benchmark of free runs (run by hand, prints figures; not part of the test suite).

    .venv/bin/python bench/bench_runs.py [--steps 600] [--repeats 5] [--ratio-steps 2000] [--ratio-only]

Steps/s of a bcl-med run: bare `Trainer.train` (no callbacks); with the capture a free run uses
(every 10th step in full, the loss and the weight cosine mean on the others); with the capture
and a `DebugController` attached and running (a `FreeRun`). The controller's own cost is also
timed per step directly. Then the pause latency (pause() → loop blocked at the boundary) and the
latency of one step while paused.

Last, the target of the run page: a bcl-med run started from the dashboard (served by `acc serve`
on one port, as `./run.sh` does), with the page open in Chromium (its event stream, charts and
force views live), against `acc run` of the same
recipe and condition, both `--ratio-steps` steps, interleaved `--repeats` times. The dashboard
run's rate is the run's own `steps_per_second` (training time); `acc run`'s is its summary's.
Target: the dashboard run at >= 0.9x `acc run`. Both train with the same CPU thread count (their
default, every core but one; set ACC_THREADS to compare other counts).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import torch
from bench_inspect_ui import CHROMIUM_ARGS, free_port, start, stop
from playwright.sync_api import Page, sync_playwright

from acc.cpu_threads import configured_threads, use_threads
from acc.data import MnistData, load_mnist
from acc.debug_controller import DebugController
from acc.free_run import FreeRun
from acc.recipes import get_recipe
from acc.session import Session
from acc.step_capture import Detail, every_nth_full

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
    plan = every_nth_full(10, Detail.SCALARS)  # what a free run keeps while running freely
    with Session("gradient_gating_l0", "bcl-med", data=data, plan=plan) as session:
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


def acc_run(steps: int, out: Path) -> float:
    """`acc run gradient_gating_l0 --condition bcl-med`: its summary's steps/s."""
    subprocess.run(
        [sys.executable, "-m", "acc", "run", "gradient_gating_l0", "--condition", "bcl-med"]
        + ["--steps", str(steps), "--out", str(out)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return float(json.loads((out / "summary.json").read_text())["steps_per_second"])


def dashboard_run(page: Page, ui: str, steps: int) -> float:
    """Start a bcl-med run from the open run page and wait (on the page's own status text) until
    it completes; the run's steps/s over its training time."""
    page.goto(ui + "/")
    page.locator("#runs-condition").select_option("bcl-med")
    page.locator("#runs-steps").fill(str(steps))
    page.get_by_test_id("runs-start-btn").click()
    # The page may still show the previous run's end: first the new run, then its end.
    page.locator('[data-testid="runs-status"][data-status="running"]').wait_for(timeout=60_000)
    page.locator('[data-testid="runs-status"][data-status="completed"]').wait_for(timeout=600_000)
    with urllib.request.urlopen(ui + "/api/runs/current", timeout=10) as answer:
        state = json.loads(answer.read())
    if "steps_per_second" not in state:
        raise RuntimeError(f"no run rate in {state}")
    return float(state["steps_per_second"])


def speed_ratio(steps: int, repeats: int) -> None:
    """The dashboard run (page open) against `acc run`, interleaved."""
    # One process on one port, as `./run.sh` and an installed wheel serve the dashboard.
    port = free_port()
    ui = f"http://127.0.0.1:{port}"
    servers = [start([sys.executable, "-m", "acc", "serve", "--port", str(port)], ui + "/health")]
    cli: list[float] = []
    page_open: list[float] = []
    try:
        with sync_playwright() as playwright, tempfile.TemporaryDirectory() as tmp:
            browser = playwright.chromium.launch(
                executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            for repeat in range(repeats):
                cli.append(acc_run(steps, Path(tmp) / str(repeat)))
                page_open.append(dashboard_run(page, ui, steps))
            browser.close()
    finally:
        for server in reversed(servers):
            stop(server)
    cli_rate, page_rate = statistics.median(cli), statistics.median(page_open)
    print(f"{'acc run (bcl-med)':<46} {cli_rate:8.1f} steps/s  {_spread(cli)}")
    print(
        f"{'dashboard run, page open (bcl-med)':<46} {page_rate:8.1f} steps/s  {_spread(page_open)}"
    )
    ratios = [p / c for p, c in zip(page_open, cli, strict=True)]
    print(
        f"{'ratio, dashboard / acc run':<46} {page_rate / cli_rate:8.2f}   "
        f"(median of the pairs {statistics.median(ratios):.2f}, "
        f"per pair {min(ratios):.2f}..{max(ratios):.2f}; target >= 0.90)"
    )


def _spread(values: list[float]) -> str:
    return f"(n={len(values)}, {min(values):.1f}..{max(values):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--ratio-steps", type=int, default=2000)
    parser.add_argument(
        "--ratio-only", action="store_true", help="only the dashboard run against `acc run`"
    )
    args = parser.parse_args()
    # The thread count `acc run` and `acc serve` train with (ACC_THREADS, default every core but
    # one), so the in-process rows compare with the two commands' rows.
    use_threads(configured_threads())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads (as acc run/serve)")
    if args.ratio_only:
        speed_ratio(args.ratio_steps, args.repeats)
        return
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
    pause_ms, step_ms = latencies(data, 20)
    print(
        f"{'pause latency (request → loop blocked)':<46} median {statistics.median(pause_ms):6.2f} ms"
        f"   max {max(pause_ms):6.2f} ms"
    )
    print(
        f"{'one step while paused (grant → blocked again)':<46} median "
        f"{statistics.median(step_ms):6.2f} ms   max {max(step_ms):6.2f} ms"
    )
    speed_ratio(args.ratio_steps, args.repeats)


if __name__ == "__main__":
    main()
