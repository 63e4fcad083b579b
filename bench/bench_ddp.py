"""Benchmark of lockstep DDP debugging (run by hand, prints figures; not part of the test suite).

    .venv/bin/python bench/bench_ddp.py [--steps 300] [--repeats 3] [--paused-s 5]

Two ranks (gloo, CPU, one thread each) train the small CNN of examples/own_loop.py under DDP on
random 28x28 batches of 64. Timed over `--steps` steps after a warm-up, best of `--repeats`:

    bare          DDP without acc
    bare+hook     DDP without acc, with torch's own `allreduce_hook` registered as the comm
                  hook (the all-reduce path the lockstep's gradient-norm hook takes: on gloo it
                  differs in speed from DDP's built-in one, so this is the fair baseline)
    lockstep      attached, running freely, no statistics (capture_every=10000): the cost of
                  the lockstep itself (one non-blocking all-gather a step ahead, the batch
                  fingerprint, the gradient-norm comm hook)
    free N=10     attached, running freely, statistics every 10th step (the default)

Each line also gives the mean time rank 0 spends in `dbg.record_batch` + `dbg.step` per step.
Both ranks share the machine's cores, so every figure moves with whatever else runs there.

Then both ranks attach paused and hold at step 1: the CPU time each process uses over
`--paused-s` seconds of wall time (all threads: the server, gloo's, the heartbeat), as a
percentage of one core.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch.distributed.algorithms.ddp_comm_hooks import default_hooks
from torch.nn.parallel import DistributedDataParallel

from acc.debugger import attach

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))
from own_loop import SmallCNN  # noqa: E402

WARMUP = 20
MODES = ("bare", "bare+hook", "lockstep", "free N=10")


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(rank: int, mode: str, steps: int, runs_dir: str) -> tuple[float, float]:
    """Seconds per step of `steps` steps (after a warm-up) of one mode on this rank, and the
    seconds per step spent in `dbg.step` (the boundary: lockstep, capture)."""
    torch.manual_seed(0)
    model = DistributedDataParallel(SmallCNN())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    generator = torch.Generator().manual_seed(rank)
    batches = [
        (torch.randn(64, 1, 28, 28, generator=generator), torch.randint(0, 10, (64,)))
        for _ in range(8)
    ]
    dbg = None
    if mode == "bare+hook":
        model.register_comm_hook(None, default_hooks.allreduce_hook)
    elif mode != "bare":
        every = 10_000 if mode == "lockstep" else 10
        dbg = attach(model, optimizer, port=0, capture_every=every, quiet=True, runs_dir=runs_dir)
    started = 0.0
    in_step = 0.0
    for step in range(WARMUP + steps):
        if step == WARMUP:
            dist.barrier()
            started = time.perf_counter()
            in_step = 0.0
        images, labels = batches[step % len(batches)]
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if dbg is not None:
            boundary = time.perf_counter()
            dbg.record_batch(images)
            dbg.step(loss=loss)
            in_step += time.perf_counter() - boundary
    elapsed = time.perf_counter() - started
    if dbg is not None:
        dbg.close()
    dist.barrier()
    return elapsed / steps, in_step / steps


def _paused_cpu(rank: int, seconds: float, runs_dir: str) -> float:
    """Percent of one core this process uses while every rank holds at step 1."""
    torch.manual_seed(0)
    model = DistributedDataParallel(SmallCNN())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    dbg = attach(model, optimizer, port=0, paused=True, quiet=True, runs_dir=runs_dir)
    measured: dict[str, float] = {}

    def measure() -> None:
        time.sleep(2.0)  # both ranks reach the hold of step 1
        wall, cpu = time.perf_counter(), _cpu_s()
        time.sleep(seconds)
        measured["percent"] = 100 * (_cpu_s() - cpu) / (time.perf_counter() - wall)
        if rank == 0:
            dbg.stop()

    thread = threading.Thread(target=measure)
    thread.start()
    with dbg:
        for _ in range(10):
            loss = F.cross_entropy(model(torch.randn(64, 1, 28, 28)), torch.randint(0, 10, (64,)))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            dbg.step(loss=loss)
    thread.join()
    return measured["percent"]


def _rank(rank: int, args: argparse.Namespace, results: Any) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=2)
    per_step: dict[str, list[tuple[float, float]]] = {mode: [] for mode in MODES}
    for repeat in range(args.repeats):
        for shift in range(len(MODES)):  # each mode in each position: load drifts
            mode = MODES[(repeat + shift) % len(MODES)]
            per_step[mode].append(_timed(rank, mode, args.steps, args.runs_dir))
    percent = _paused_cpu(rank, args.paused_s, args.runs_dir)
    results.put((rank, {mode: min(times) for mode, times in per_step.items()}, percent))

    dist.destroy_process_group()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--paused-s", type=float, default=5.0)
    parser.add_argument("--runs-dir", default="/tmp/acc-bench-ddp-runs")
    args = parser.parse_args()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        os.environ["MASTER_PORT"] = str(sock.getsockname()[1])
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    context = mp.get_context("spawn")
    results = context.SimpleQueue()
    mp.spawn(_rank, args=(args, results), nprocs=2, join=True)
    rows = sorted(results.get() for _ in range(2))
    bare = rows[0][1]["bare+hook"]
    print(f"2 ranks, gloo on CPU, small CNN, batch 64, {args.steps} steps, best of {args.repeats}")
    for mode in MODES:
        seconds, boundary = rows[0][1][mode]
        print(
            f"  {mode:<10} {1 / seconds:8.1f} steps/s  {seconds * 1e3:7.2f} ms/step  "
            f"{100 * (seconds / bare[0] - 1):+6.1f}% vs bare+hook  "
            f"dbg.step {boundary * 1e6:6.0f} us/step (rank 0)"
        )
    for rank, _, percent in rows:
        print(f"  paused: rank {rank} uses {percent:.2f}% of a core over {args.paused_s:g} s")


if __name__ == "__main__":
    main()
