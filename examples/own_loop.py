"""Your own PyTorch loop, watched and steered by acc: a small CNN on the bundled MNIST digits.

    .venv/bin/python examples/own_loop.py            # then open the printed URL
    .venv/bin/python examples/own_loop.py --port 0 --steps 500

Two lines are acc's: `acc.attach(...)` and `dbg.step(...)`. Pause, Step and Resume from the
dashboard hold this loop at `dbg.step`; Stop ends it (the `with` block swallows `StopTraining`).
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import acc
from acc.attached_loop import DEFAULT_CAPTURE_EVERY
from acc.data import load_mnist


class SmallCNN(nn.Module):
    """Two convolutions and two linear layers: ~20k parameters for 28x28 digits."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 7 * 7, 24), nn.ReLU(), nn.Linear(24, 10)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def add_training_options(parser: argparse.ArgumentParser) -> None:
    """The options every example's loop shares: batch size, learning rate, how often acc
    computes statistics while running, and the seed."""
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument(
        "--capture-every",
        type=int,
        default=DEFAULT_CAPTURE_EVERY,
        help=f"statistics every N steps while running (default {DEFAULT_CAPTURE_EVERY})",
    )
    parser.add_argument("--seed", type=int, default=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8787, help="API port (0: a free one)")
    parser.add_argument("--steps", type=int, default=3000, help="training steps to run")
    add_training_options(parser)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    data = load_mnist()
    loader = DataLoader(
        TensorDataset(data.train.images, data.train.labels),
        batch_size=args.batch_size,
        shuffle=True,
        drop_last=True,
    )
    model = SmallCNN()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)

    step = 0
    with acc.attach(model, optimizer, port=args.port, capture_every=args.capture_every) as dbg:
        while step < args.steps:
            for images, labels in loader:
                logits = model(images)
                loss = F.cross_entropy(logits, labels)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                accuracy = (logits.argmax(1) == labels).float().mean()
                step += 1
                dbg.step(loss=loss, accuracy=accuracy)
                if step >= args.steps:
                    break
    print(f"finished after {step} steps", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
