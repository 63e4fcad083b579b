"""Soak benchmark: does memory stay bounded over long sessions? (run by hand, prints figures)

    .venv/bin/python bench/bench_soak.py [--steps 10000] [--run-steps 100000] [--quick]
                                         [--phase both|inspector|run] [--out /tmp/acc_soak.json]

(a) An inspector session (`ModelSeat` + `Session`, bcl-med) stepped in chunks of 500 with full
capture of every step; process RSS after each chunk. (b) A free run (`ModelSeat` + `FreeRun`,
bcl-med, full capture every 10th step) of `--run-steps` steps; RSS every `--interval` seconds with
the step count. For both: RSS before any torch work (cold), before the measured setup (after a
short warm-up session, so torch's one-off runtime costs are paid), after setup, the curve, its
plateau and its slope over the second half, after teardown + gc.collect(), and after that plus
glibc `malloc_trim(0)`, which hands freed heap pages back to the system (compared with the
start figure trimmed the same way). Each phase runs in a
fresh child process so its figures are its own. The history and snapshot budgets are printed
from the inspector when it has them. `--quick` is a smoke run: 2,000 and 10,000 steps.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MB = 2**20
CHUNK = 500  # inspector steps per call (the session's per-call maximum)
RECIPE, CONDITION = "gradient_gating_l0", "bcl-med"
BUDGETS = ("max_full_snapshots", "max_snapshot_bytes", "max_history_steps", "max_vector_history")


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size of a process in MiB, from /proc (no psutil needed)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS in /proc/{pid}/status")


def malloc_trim() -> bool:
    """glibc's malloc_trim(0): give free heap memory back to the system. False when unavailable."""
    try:
        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))
    except (OSError, AttributeError):
        return False


def settled_rss() -> float:
    gc.collect()
    return rss_mb()


def budgets(inspector: Any) -> dict[str, int | None]:
    """The inspector's memory budgets; None for those this version does not have."""
    return {name: getattr(inspector, name, None) for name in BUDGETS}


def history_bytes(inspector: Any) -> int | None:
    value = getattr(inspector, "history_bytes", None)
    if isinstance(value, int):
        return value
    columns = getattr(inspector, "_columns", None)  # before the inspector reported it itself
    if isinstance(columns, dict):
        return sum(int(getattr(column, "nbytes", 0)) for column in columns.values())
    return None


def sample(inspector: Any, step: int, started: float) -> dict[str, Any]:
    held = history_bytes(inspector)
    return {
        "t": round(time.perf_counter() - started, 2),
        "step": step,
        "rss_mb": round(rss_mb(), 1),
        "snapshot_mb": round(getattr(inspector, "snapshot_bytes", 0) / MB, 1),
        "history_mb": round(held / MB, 2) if held is not None else None,
        "history_steps": getattr(inspector, "step_count", None),
    }


def loads() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


# -- the two phases (each in its own child process) ------------------------------------------------


def inspector_phase(steps: int) -> dict[str, Any]:
    import torch

    from acc.data import load_mnist
    from acc.model_seat import ModelSeat

    data = load_mnist()
    seat = ModelSeat(data, "cpu")
    cold = settled_rss()
    seat.setup_session(RECIPE, CONDITION, 0).step(
        50
    )  # warm-up: torch's thread pools, allocator, imports
    seat.teardown_session()
    start = settled_rss()
    malloc_trim()
    start_trimmed = settled_rss()
    load_before = loads()
    began = time.perf_counter()
    session = seat.setup_session(RECIPE, CONDITION, 0)
    after_setup = rss_mb()
    setup_s = time.perf_counter() - began
    inspector = session.inspector
    state = session.state().to_dict()
    limits = {name: state.get(name, value) for name, value in budgets(inspector).items()}
    samples = [sample(inspector, 0, began)]
    done = 0
    while done < steps:
        n = min(CHUNK, steps - done)
        session.step(n)
        done += n
        samples.append(sample(inspector, done, began))
    load_after = loads()
    final_state = session.state().to_dict()
    del session, inspector
    seat.teardown_session()
    after_teardown = settled_rss()
    trimmed = malloc_trim()
    after_trim = settled_rss()
    return {
        "phase": "inspector",
        "steps": steps,
        "torch_threads": torch.get_num_threads(),
        "budgets": limits,
        "final_state": {
            key: final_state.get(key)
            for key in ("step", "history_steps", "retained", "snapshot_bytes", "history_bytes")
        },
        "setup_s": round(setup_s, 2),
        **_memory_figures(
            [cold, start, start_trimmed, after_setup, after_teardown, after_trim],
            trimmed,
            samples,
            (load_before, load_after),
        ),
    }


def _memory_figures(
    rss: list[float], trimmed: bool, samples: list[Any], loads: tuple[Any, Any]
) -> dict[str, Any]:
    """The RSS figures of a phase (cold, start, start_trimmed, after_setup, after_teardown,
    after_trim, in that order), the samples and the load around it."""
    names = ("cold", "start", "start_trimmed", "after_setup", "after_teardown", "after_trim")
    return {
        "rss_mb": {name: round(value, 1) for name, value in zip(names, rss, strict=True)},
        "malloc_trim_released": trimmed,
        "samples": samples,
        "load_before": loads[0],
        "load_after": loads[1],
    }


def run_phase(steps: int, interval: float) -> dict[str, Any]:
    import torch

    from acc.data import load_mnist
    from acc.model_seat import ModelSeat

    data = load_mnist()
    seat = ModelSeat(data, "cpu")
    cold = settled_rss()
    seat.start_run(RECIPE, CONDITION, 200, capture_every=10).wait()  # warm-up
    seat.close()
    start = settled_rss()
    malloc_trim()
    start_trimmed = settled_rss()
    load_before = loads()
    began = time.perf_counter()
    run = seat.start_run(RECIPE, CONDITION, steps, capture_every=10)
    after_setup = rss_mb()
    inspector = run.session.inspector
    limits = budgets(inspector)
    samples = [sample(inspector, 0, began)]
    while not run.wait(interval):
        samples.append(sample(inspector, inspector.last_step or 0, began))
        if len(samples) % 12 == 0:  # about once a minute, so a long soak shows it is alive
            last = samples[-1]
            print(
                f"  ... step {last['step']:>7}  RSS {last['rss_mb']:7.1f} MB  t {last['t']:6.0f} s",
                file=sys.stderr,
                flush=True,
            )
    samples.append(sample(inspector, inspector.last_step or 0, began))
    load_after = loads()
    state = run.state().to_dict()
    final = {key: state.get(key) for key in ("status", "step", "steps_per_second", "retained")}
    final["history_bytes"] = history_bytes(inspector)
    final["snapshot_bytes"] = inspector.snapshot_bytes
    del run, inspector
    seat.close()
    after_teardown = settled_rss()
    trimmed = malloc_trim()
    after_trim = settled_rss()
    return {
        "phase": "run",
        "steps": steps,
        "interval_s": interval,
        "torch_threads": torch.get_num_threads(),
        "budgets": limits,
        "final_state": final,
        **_memory_figures(
            [cold, start, start_trimmed, after_setup, after_teardown, after_trim],
            trimmed,
            samples,
            (load_before, load_after),
        ),
    }


# -- analysis and printing -------------------------------------------------------------------------


def analyse(result: dict[str, Any]) -> dict[str, Any]:
    """Peak, plateau (median of the last quarter of the samples) and the slope of RSS against
    steps over the second half, in MB per 10,000 steps."""
    samples = result["samples"]
    rss = [s["rss_mb"] for s in samples]
    half = samples[len(samples) // 2 :]
    xs, ys = [s["step"] for s in half], [s["rss_mb"] for s in half]
    slope = 0.0
    if len(half) >= 2 and max(xs) > min(xs):
        mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
        var = sum((x - mean_x) ** 2 for x in xs)
        slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var
    figures = result["rss_mb"]
    start = figures["start"]
    return {
        "peak_mb": max(rss),
        "plateau_mb": statistics.median(rss[-max(1, len(rss) // 4) :]),
        "slope_mb_per_10k_steps": round(slope * 10_000, 2),
        "teardown_vs_start_pct": round((figures["after_teardown"] / start - 1) * 100, 1),
        "trim_vs_start_pct": round((figures["after_trim"] / figures["start_trimmed"] - 1) * 100, 1),
        "teardown_vs_cold_pct": round((figures["after_teardown"] / figures["cold"] - 1) * 100, 1),
        "trim_vs_cold_pct": round((figures["after_trim"] / figures["cold"] - 1) * 100, 1),
    }


def print_phase(result: dict[str, Any], max_rows: int = 24) -> None:
    name = result["phase"]
    samples = result["samples"]
    every = max(1, -(-len(samples) // max_rows))
    rows = samples[::every]
    if rows[-1] is not samples[-1]:
        rows.append(samples[-1])
    limits = ", ".join(
        f"{key}={value if value is not None else 'n/a'}" for key, value in result["budgets"].items()
    )
    print(f"\n== {name}: {result['steps']} steps of {CONDITION}; budgets: {limits}")
    print(f"   torch threads {result['torch_threads']}, load average {result['load_before']}")
    print(
        f"   {'t s':>7} {'step':>7} {'RSS MB':>8} {'Δsetup':>7} {'snap MB':>8} {'hist MB':>8} {'st/s':>6}"
    )
    setup = result["rss_mb"]["after_setup"]
    previous: dict[str, Any] | None = None
    for row in rows:
        rate = ""
        if previous is not None and row["t"] > previous["t"]:
            rate = f"{(row['step'] - previous['step']) / (row['t'] - previous['t']):6.1f}"
        hist = f"{row['history_mb']:8.2f}" if row["history_mb"] is not None else f"{'n/a':>8}"
        print(
            f"   {row['t']:7.1f} {row['step']:7d} {row['rss_mb']:8.1f} {row['rss_mb'] - setup:+7.1f}"
            f" {row['snapshot_mb']:8.1f} {hist} {rate:>6}"
        )
        previous = row
    figures, stats = result["rss_mb"], result["analysis"]
    print(
        f"   RSS cold {figures['cold']:.0f} MB, start (before setup) {figures['start']:.0f}, "
        f"after setup {figures['after_setup']:.0f}, peak {stats['peak_mb']:.0f}, plateau "
        f"{stats['plateau_mb']:.0f}, slope over the 2nd half {stats['slope_mb_per_10k_steps']:+.1f} "
        f"MB/10k steps; after teardown + gc {figures['after_teardown']:.0f} "
        f"({stats['teardown_vs_start_pct']:+.1f} % of start), + malloc_trim "
        f"{figures['after_trim']:.0f} ({stats['trim_vs_start_pct']:+.1f} % of the trimmed start)"
    )
    within = abs(stats["teardown_vs_start_pct"]) <= 10
    within_trim = abs(stats["trim_vs_start_pct"]) <= 10
    print(
        f"SUMMARY {name}: {result['steps']} steps, RSS start {figures['start']:.0f} "
        f"({figures['start_trimmed']:.0f} trimmed) → plateau "
        f"{stats['plateau_mb']:.0f} MB ({stats['slope_mb_per_10k_steps']:+.1f} MB/10k steps late) → "
        f"teardown {figures['after_teardown']:.0f} MB: within 10 % of start "
        f"{'yes' if within else 'NO'}; with malloc_trim {figures['after_trim']:.0f} vs "
        f"{figures['start_trimmed']:.0f} MB: {'yes' if within_trim else 'NO'}; "
        f"vs cold {stats['teardown_vs_cold_pct']:+.1f} % / {stats['trim_vs_cold_pct']:+.1f} %"
    )


def child(args: argparse.Namespace) -> None:
    if args.child == "inspector":
        result = inspector_phase(args.steps)
    else:
        result = run_phase(args.run_steps, args.interval)
    Path(args.child_out).write_text(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000, help="inspector session steps")
    parser.add_argument("--run-steps", type=int, default=100_000, help="free run steps")
    parser.add_argument("--quick", action="store_true", help="2,000 / 10,000 steps (smoke run)")
    parser.add_argument("--phase", choices=("both", "inspector", "run"), default="both")
    parser.add_argument("--interval", type=float, default=5.0, help="free-run sampling, seconds")
    parser.add_argument("--out", default="/tmp/acc_soak.json", help="JSON with the curves")
    parser.add_argument("--child", choices=("inspector", "run"), help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.quick:
        args.steps, args.run_steps = 2_000, 10_000
    phases = ("inspector", "run") if args.phase == "both" else (args.phase,)
    report: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "load_at_start": loads(),
        "steps": args.steps,
        "run_steps": args.run_steps,
    }
    for phase in phases:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
            child_out = handle.name
        command = [
            sys.executable,
            __file__,
            "--child",
            phase,
            "--child-out",
            child_out,
            "--steps",
            str(args.steps),
            "--run-steps",
            str(args.run_steps),
            "--interval",
            str(args.interval),
        ]
        try:
            subprocess.run(command, check=True)
            result = json.loads(Path(child_out).read_text())
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(child_out)
        result["analysis"] = analyse(result)
        report[phase] = result
        print_phase(result)
    report["load_at_end"] = loads()
    Path(args.out).write_text(json.dumps(report, indent=1))
    print(
        f"\nload average {report['load_at_start']} → {report['load_at_end']} on {os.cpu_count()} CPUs"
    )
    print(f"curves written to {args.out}")


if __name__ == "__main__":
    main()
