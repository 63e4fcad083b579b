"""Benchmark of the runs archive (run by hand, prints figures; not part of the test suite).

    .venv/bin/python bench/bench_archive.py [--steps 1500] [--repeats 3] [--condition control]

1. A free run's steps/s with and without recording (`FreeRun` without and with its `FreeRunRecorder` of the
   same recipe, condition and seed, interleaved `--repeats` times; the run's own training rate).
2. The recorder's cost on the training thread: `record_step` of a free run's scalars, per call.
3. The writer: steps/s it commits (100 steps a transaction) and the flush latency (a flush
   asked right after a step, to that step being committed and readable).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from acc.archive.recorder import RunRecorder
from acc.archive.seat import free_run_watchers
from acc.archive.store import RunArchive
from acc.data import MnistData, load_mnist
from acc.free_run import FreeRun


def run_rate(data: MnistData, steps: int, condition: str, archive: RunArchive | None) -> float:
    watchers = free_run_watchers(archive)  # none without an archive
    run = FreeRun("gradient_gating_l0", condition, steps, data=data, watchers=watchers)
    try:
        assert run.wait(3600), "the run did not end"
        return run.state().steps_per_second
    finally:
        run.close()


def enqueue_cost(archive: RunArchive, calls: int) -> float:
    recorder = RunRecorder(archive, recipe="bench")
    scalars = {"loss": np.float32(0.5), "weight_cosine_mean": np.float32(0.1)}
    started = time.perf_counter()
    for step in range(1, calls + 1):
        recorder.record_step(step, scalars)
    elapsed = time.perf_counter() - started
    recorder.finish()
    archive.writer.flush(120)
    return elapsed / calls


def writer_rate(archive: RunArchive, steps: int) -> float:
    recorder = RunRecorder(archive, recipe="bench")
    scalars = {"loss": 0.5, "weight_cosine_mean": 0.1, "strength": 2.0}
    started = time.perf_counter()
    for step in range(1, steps + 1):
        recorder.record_step(step, scalars)
    archive.writer.flush(600)
    return steps / (time.perf_counter() - started)


def flush_latency(archive: RunArchive, samples: int) -> list[float]:
    recorder = RunRecorder(archive, recipe="bench")
    latencies = []
    for step in range(1, samples + 1):
        recorder.record_step(step, {"loss": 0.5})
        started = time.perf_counter()
        archive.writer.flush(60)
        latencies.append(time.perf_counter() - started)
    recorder.finish()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--condition", default="control")
    args = parser.parse_args()
    data = load_mnist()
    with tempfile.TemporaryDirectory(prefix="acc-bench-archive-") as tmp:
        plain: list[float] = []
        recorded: list[float] = []
        run_rate(data, 100, args.condition, None)  # warm up
        for repeat in range(args.repeats):
            plain.append(run_rate(data, args.steps, args.condition, None))
            with RunArchive(Path(tmp) / f"runs-{repeat}") as archive:
                recorded.append(run_rate(data, args.steps, args.condition, archive))
        p, r = statistics.median(plain), statistics.median(recorded)
        print(f"free run {args.condition}, {args.steps} steps, median of {args.repeats}:")
        print(f"  without recording  {p:8.1f} steps/s  {[round(x, 1) for x in plain]}")
        print(f"  with recording     {r:8.1f} steps/s  {[round(x, 1) for x in recorded]}")
        print(f"  ratio              {r / p:8.3f}   per-step cost {1e3 * (1 / r - 1 / p):+.3f} ms")
        with RunArchive(Path(tmp) / "enqueue") as archive:
            cost = enqueue_cost(archive, 100_000)
        print(f"record_step on the training thread: {1e6 * cost:.2f} µs per step")
        with RunArchive(Path(tmp) / "writer") as archive:
            rate = writer_rate(archive, 200_000)
        print(f"writer: {rate:,.0f} steps/s committed (3 scalars a step, 100 steps a transaction)")
        with RunArchive(Path(tmp) / "flush") as archive:
            latencies = sorted(flush_latency(archive, 200))
        print(
            f"flush latency (step enqueued → committed): median {1e3 * statistics.median(latencies):.2f} "
            f"ms, p95 {1e3 * latencies[int(0.95 * len(latencies))]:.2f} ms; without a flush a step "
            "is committed within 1 s or 100 steps"
        )


if __name__ == "__main__":
    main()
