"""Benchmark: what arming breakpoints costs a free run (run by hand, prints figures; not part of
the test suite).

    .venv/bin/python bench/bench_breakpoints.py [--steps 400] [--repeats 3]

Steps/s of a bcl-med `FreeRun` (capture every 10th step in full, as by default) with no
breakpoint, with a threshold that never fires (`loss_above`), with `nonfinite`, and with every
condition armed (none fires). Armed breakpoints make every step a full capture (so the step where
one fires is kept whole) and `nonfinite` adds forward hooks and one finiteness check per module
output, gradient and parameter; the figures say what that costs. The configurations are
interleaved `--repeats` times; the median rate (training time, `RunState.steps_per_second`) is
printed with its ratio to the unarmed run.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from acc.breakpoints import BreakpointConfig
from acc.data import MnistData, load_mnist
from acc.free_run import FreeRun

CONFIGS: dict[str, BreakpointConfig] = {
    "none": BreakpointConfig(),
    "loss_above": BreakpointConfig(loss_above=1e9),
    "nonfinite": BreakpointConfig(nonfinite=True),
    "all": BreakpointConfig(
        nonfinite=True,
        loss_above=1e9,
        loss_spike=1e6,
        grad_norm_above=1e12,
        dead_fraction_above=1.0,
    ),
}


def run_rate(data: MnistData, steps: int, config: BreakpointConfig) -> float:
    # Started paused so the breakpoints are armed before the first measured step.
    run = FreeRun("gradient_gating_l0", "bcl-med", steps, data=data, paused=True)
    try:
        run.session.breakpoints.set(config)
        run.controller.when_blocked().result(120)
        run.controller.resume()
        run.wait(600)
        state = run.state()
        assert state.status.value == "completed", state
        assert state.break_reason is None, state.break_reason
        return state.steps_per_second
    finally:
        run.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    data = load_mnist(Path(tempfile.mkdtemp()) / "mnist")
    rates: dict[str, list[float]] = {name: [] for name in CONFIGS}
    for _ in range(args.repeats):
        for name, config in CONFIGS.items():
            rates[name].append(run_rate(data, args.steps, config))
    base = statistics.median(rates["none"])
    print(
        f"bcl-med free run, {args.steps} steps, median of {args.repeats} (steps/s, training time)"
    )
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"  {name:<12} {median:8.1f} steps/s  {median / base:5.2f}x  {values}")


if __name__ == "__main__":
    main()
