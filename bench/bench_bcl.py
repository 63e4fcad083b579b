"""Training throughput of BCL: steps/s of `bcl-med` against `control` (run by hand).

    python bench/bench_bcl.py [--steps 300] [--repeats 5] [--device cpu] [--threads N]

Both conditions of `gradient_gating_l0` run the plain `Trainer.train()` loop (no callbacks), so
the difference is what BCL's hooks cost: the competition in the forward pass, the masked gradient
and the SOM step in the backward. Each repeat times `--steps` steps after a warm-up; the median
and the best repeat are printed, and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from acc.data import MnistData, load_mnist
from acc.recipes import get_recipe

CONDITIONS = ("control", "bcl-med")
WARMUP_STEPS = 20  # first steps pay for allocator growth and lazy init


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def steps_per_second(
    condition: str, data: MnistData, steps: int, repeats: int, device: torch.device
) -> list[float]:
    """`repeats` timings of `steps` training steps of `condition`, in steps/s."""
    rates = []
    with get_recipe("gradient_gating_l0").build(condition, 0, data, device) as setup:
        setup.trainer.train(WARMUP_STEPS)
        for _ in range(repeats):
            _synchronize(device)
            start = time.perf_counter()
            setup.trainer.train(steps)
            _synchronize(device)
            rates.append(steps / (time.perf_counter() - start))
    return rates


def main() -> None:
    """Parse the options, time both conditions, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="steps per timed repeat")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per condition")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    data = load_mnist()
    print(
        f"gradient_gating_l0, batch 128, D=64, {args.steps} steps x {args.repeats} repeats, "
        f"device {device}, {torch.get_num_threads()} CPU threads, torch {torch.__version__}"
    )
    medians = {}
    for condition in CONDITIONS:
        rates = steps_per_second(condition, data, args.steps, args.repeats, device)
        medians[condition] = statistics.median(rates)
        print(
            f"{condition:8s}  median {medians[condition]:8.1f} steps/s   "
            f"best {max(rates):8.1f}   all {' '.join(f'{r:.1f}' for r in rates)}"
        )
    ratio = medians["bcl-med"] / medians["control"]
    print(f"bcl-med / control: {ratio:.2f}x the steps/s ({1 / ratio:.2f}x the time per step)")


if __name__ == "__main__":
    main()
