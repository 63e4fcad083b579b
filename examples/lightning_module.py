"""A LightningModule watched and steered by acc: the small CNN of own_loop.py, fitted by a
Lightning `Trainer` with `AccCallback` (needs the `lightning` extra: pip install acc[lightning]).

    .venv/bin/python examples/lightning_module.py            # then open the printed URL
    .venv/bin/python examples/lightning_module.py --port 0 --steps 500
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from acc.data import load_mnist
from acc.lightning import AccCallback

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script: own_loop is beside it
from own_loop import SmallCNN, add_training_options  # noqa: E402


class DigitClassifier(pl.LightningModule):
    def __init__(self, lr: float) -> None:
        super().__init__()
        self.net = SmallCNN()
        self.lr = lr

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        images, labels = batch
        logits = self.net(images)
        loss = F.cross_entropy(logits, labels)
        self.log("accuracy", (logits.argmax(1) == labels).float().mean())
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8787, help="API port (0: a free one)")
    parser.add_argument("--steps", type=int, default=3000, help="training steps to run")
    add_training_options(parser)
    args = parser.parse_args(argv)

    pl.seed_everything(args.seed, verbose=False)
    data = load_mnist()
    loader = DataLoader(
        TensorDataset(data.train.images, data.train.labels),
        batch_size=args.batch_size,
        shuffle=True,
        drop_last=True,
    )
    trainer = pl.Trainer(
        max_steps=args.steps,
        accelerator="cpu",
        devices=1,
        callbacks=[AccCallback(port=args.port, capture_every=args.capture_every)],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(DigitClassifier(args.lr), loader)
    print(f"finished after {trainer.global_step} steps", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
