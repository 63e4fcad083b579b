"""Benchmark of `acc.attach` (run by hand, prints figures; not part of the test suite).

    .venv/bin/python bench/bench_attach.py [--steps 30] [--repeats 3] [--batch 16] [--threads 1]

For each model, the same plain loop (forward, loss, zero_grad, backward, SGD step) timed per step:

    bare          the loop without acc
    light         attached, running freely, no statistics (capture_every=10000): the fixed
                  cost of `dbg.step`; with statistics every N steps the overhead is about
                  light + (stats N=1 - 1) / N
    free N=10     attached, running freely, statistics every 10th step (the default)
    stats N=1     attached, statistics (norms, update ratio, non-finite counts, histograms,
                  activation statistics) every step
    held          attached and paused, each step released by Step: every step held in full
                  (weights, gradients and updates copied to the host)

Models: the small CNN of examples/own_loop.py on 28x28 digits, and a ResNet-18-shaped CNN written
here (no torchvision) on 32x32 inputs at widths 1/4, 1/2 and 1 (0.7M, 2.8M, 11.2M parameters), so
the figures show how each cost grows with the model. Also: the bytes of the per-step answer the
model page reads (GET /model/layers and the state), the bytes a held step takes, and the time of
GET /model/heatmap for a 4096 x 4096 weight reduced to 128 x 128 cells, over HTTP.

Targets (issue: "Your own loop"): small CNN free N=10 <= 1.03x bare, held <= 2x; ResNet-18
stats every step <= 1.3x, held <= 2x, per-step answer <= 1 MB, reduced heatmap <= 200 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx2
import orjson
import torch
import torch.nn.functional as F
from torch import nn

from acc.attached_loop import AttachedLoop
from acc.debugger import attach

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))
from own_loop import SmallCNN  # noqa: E402


class BasicBlock(nn.Module):
    def __init__(self, inputs: int, outputs: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(outputs)
        self.conv2 = nn.Conv2d(outputs, outputs, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(outputs)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or inputs != outputs:
            self.shortcut = nn.Sequential(
                nn.Conv2d(inputs, outputs, 1, stride, bias=False), nn.BatchNorm2d(outputs)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet18(nn.Module):
    """ResNet-18 for 32x32 inputs (a 3x3 stem, no max-pool), channels scaled by `width`."""

    def __init__(self, width: float = 1.0, classes: int = 10) -> None:
        super().__init__()
        channels = [max(8, int(c * width)) for c in (64, 128, 256, 512)]
        self.stem = nn.Sequential(
            nn.Conv2d(3, channels[0], 3, 1, 1, bias=False), nn.BatchNorm2d(channels[0]), nn.ReLU()
        )
        blocks: list[nn.Module] = []
        inputs = channels[0]
        for index, outputs in enumerate(channels):
            for block in range(2):
                stride = 2 if index > 0 and block == 0 else 1
                blocks.append(BasicBlock(inputs, outputs, stride))
                inputs = outputs
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(inputs, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.blocks(self.stem(x))
        return self.head(F.adaptive_avg_pool2d(out, 1).flatten(1))


Step = Callable[[], torch.Tensor]


def make_step(model: nn.Module, shape: tuple[int, ...], batch: int) -> Step:
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(batch, *shape, generator=generator)
    y = torch.randint(0, 10, (batch,), generator=generator)

    def step() -> torch.Tensor:
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    step.optimizer = optimizer  # type: ignore[attr-defined]
    return step


def per_step(run: Callable[[], None], steps: int) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) / steps


def time_bare(step: Step, steps: int) -> float:
    def run() -> None:
        for _ in range(steps):
            step()

    return per_step(run, steps)


def time_attached(model: nn.Module, step: Step, steps: int, capture_every: int) -> float:
    loop = AttachedLoop(model, step.optimizer, capture_every=capture_every)  # type: ignore[attr-defined]
    try:

        def run() -> None:
            for _ in range(steps):
                loop.end_step({"loss": step()})

        run()  # warm: the first statistics allocate
        return per_step(run, steps)
    finally:
        loop.close()


def time_held(model: nn.Module, step: Step, steps: int) -> tuple[float, int, int]:
    """Seconds per held step (paused, released `steps` at a time by Step), the bytes one held
    step takes, and the bytes of the per-step answer (layers + state as JSON)."""
    loop = AttachedLoop(model, step.optimizer, paused=True)  # type: ignore[attr-defined]
    stop = threading.Event()

    def user_loop() -> None:
        while not stop.is_set():
            if not loop.end_step({"loss": step()}):
                return

    thread = threading.Thread(target=user_loop, daemon=True)
    thread.start()
    try:
        assert loop.controller.when_blocked().result(600)
        loop.submit_step(2).result(600)  # warm
        started = time.perf_counter()
        loop.submit_step(steps).result(3600)
        seconds = (time.perf_counter() - started) / steps
        held = loop.step_data().nbytes
        answer = len(orjson.dumps(loop.layers(), option=orjson.OPT_SERIALIZE_NUMPY))
        answer += len(orjson.dumps(loop.state().to_dict()))
        return seconds, held, answer
    finally:
        stop.set()
        loop.stop()
        loop.close()
        thread.join(600)


def heatmap_latency(repeats: int) -> tuple[float, int]:
    """Median seconds of GET /model/heatmap (128 x 128 cells) of a held 4096 x 4096 weight over
    HTTP, and the answer's bytes."""
    torch.manual_seed(0)
    model = nn.Linear(4096, 4096)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    dbg = attach(model, optimizer, port=0, paused=True, quiet=True, dashboard=False)
    x = torch.randn(4, 4096)

    def user_loop() -> None:
        with dbg:
            while True:
                loss = model(x).pow(2).mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                dbg.step(loss=loss)

    thread = threading.Thread(target=user_loop, daemon=True)
    thread.start()
    try:
        assert dbg.loop.controller.when_blocked().result(600)
        times = []
        size = 0
        with httpx2.Client(base_url=dbg.url, timeout=60) as http:
            for _ in range(repeats):
                started = time.perf_counter()
                answer = http.get(
                    "/model/heatmap", params={"key": "weight/weight", "rows": 128, "cols": 128}
                )
                times.append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.text
                size = len(answer.content)
        return statistics.median(times), size
    finally:
        dbg.stop()
        thread.join(600)


def bench_model(
    name: str, model: nn.Module, shape: tuple[int, ...], args: argparse.Namespace
) -> None:
    parameters = sum(p.numel() for p in model.parameters())
    step = make_step(model, shape, args.batch)
    for _ in range(3):
        step()  # warm
    bare, light, free, stats = [], [], [], []
    for _ in range(args.repeats):  # interleaved, so drifts of a shared machine hit all alike
        bare.append(time_bare(step, args.steps))
        light.append(time_attached(model, step, args.steps, 10_000))
        free.append(time_attached(model, step, args.steps, 10))
        stats.append(time_attached(model, step, args.steps, 1))
    held, held_bytes, answer_bytes = time_held(model, step, max(4, args.steps // 3))
    b = statistics.median(bare)
    f, s = statistics.median(free), statistics.median(stats)
    n = statistics.median(light)
    print(
        f"{name:<18} {parameters / 1e6:6.2f}M params | bare {b * 1e3:8.1f} ms | "
        f"light {n / b:5.3f}x | free N=10 {f / b:5.3f}x | stats N=1 {s / b:5.3f}x | "
        f"held {held / b:5.2f}x | held step {held_bytes / 2**20:7.1f} MiB | "
        f"per-step answer {answer_bytes / 1024:6.1f} KiB",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--skip-resnet", action="store_true")
    # One thread: on a shared machine, torch's thread pool fighting other processes makes the
    # step times swing far more than anything measured here.
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}")
    bench_model("small CNN 28x28", SmallCNN(), (1, 28, 28), args)
    if not args.skip_resnet:
        for width in (0.25, 0.5, 1.0):
            bench_model(f"ResNet-18 x{width:g}", ResNet18(width), (3, 32, 32), args)
    seconds, size = heatmap_latency(max(3, args.repeats))
    print(
        f"GET /model/heatmap 4096x4096 -> 128x128: {seconds * 1e3:.1f} ms, "
        f"{size / 1024:.0f} KiB (median of {max(3, args.repeats)})"
    )


if __name__ == "__main__":
    main()
