"""Benchmark of restore points and rewind (run by hand, prints figures; not part of the test suite).

    .venv/bin/python bench/bench_rewind.py [--steps 30] [--device cpu]

For each recipe at its default size (gradient_gating_l0 bcl-med, vqvae ema): the bytes of one
restore point, the time to take one (a deep copy of model, optimizer, batch position, capture
state and RNG states), what that adds to an inspector step (every step takes one) and to a free
run's step (one every `capture_every` = 10 steps), how many points the default budget holds, and
the time of a rewind (restore + moving the later steps to a branch).
"""

from __future__ import annotations

import argparse
import statistics
import time

from acc.data import load_mnist
from acc.free_run import DEFAULT_CAPTURE_EVERY
from acc.session import Session
from acc.step_inspector import DEFAULT_MAX_RESTORE_BYTES

RECIPES = (("gradient_gating_l0", "bcl-med"), ("vqvae", "ema"))


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def bench(recipe: str, condition: str, steps: int, device: str) -> None:
    data = load_mnist()
    with Session(recipe, condition, data=data, seed=0, device=device) as session:
        session.step(3)  # warm up: Adam's moments exist from step 1 on
        step_times = []
        for _ in range(steps):
            started = time.perf_counter()
            session.step(1)
            step_times.append(time.perf_counter() - started)
        last = session.state().step
        points = [session.restore_points.get(step) for step in range(last - steps + 1, last + 1)]
        take_times = [point.seconds for point in points]
        size = points[-1].nbytes
        rewind_times = []
        for _ in range(steps):
            session.step(1)
            started = time.perf_counter()
            session.rewind(last)
            rewind_times.append(time.perf_counter() - started)
    step_ms, take_ms = median_ms(step_times), median_ms(take_times)
    print(f"{recipe} ({condition}, {device}):")
    print(f"  restore point            {size / 2**20:8.2f} MiB")
    print(f"  take one                 {take_ms:8.2f} ms (median of {steps})")
    print(f"  inspector step (with it) {step_ms:8.2f} ms: the point is {take_ms / step_ms:.1%}")
    print(
        f"  free run, 1 in {DEFAULT_CAPTURE_EVERY}        "
        f"{take_ms / DEFAULT_CAPTURE_EVERY:8.2f} ms a step on average"
    )
    print(
        f"  default budget           {DEFAULT_MAX_RESTORE_BYTES / 2**20:.0f} MiB = "
        f"{DEFAULT_MAX_RESTORE_BYTES // size} points"
    )
    print(f"  rewind one step          {median_ms(rewind_times):8.2f} ms (median of {steps})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="measured steps per figure")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    for recipe, condition in RECIPES:
        bench(recipe, condition, args.steps, args.device)


if __name__ == "__main__":
    main()
