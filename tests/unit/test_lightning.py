"""`AccCallback` with a real LightningModule on CPU: pause, step and stop the fit from acc."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import pytorch_lightning as pl
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from acc.lightning import AccCallback

WAIT_S = 60.0

pytestmark = [
    # Lightning warns about this tiny setup (few workers, no logger, few batches): not our concern.
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    # pytorch-lightning 2.6 with torch 2.13: LeafSpec is deprecated inside Lightning itself.
    pytest.mark.filterwarnings("ignore:.*LeafSpec.*:FutureWarning"),
]


class TinyClassifier(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = nn.functional.cross_entropy(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.05)


def _loader() -> DataLoader[Any]:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(256, 8, generator=generator)
    y = torch.randint(0, 3, (256,), generator=generator)
    return DataLoader(TensorDataset(x, y), batch_size=16)


def test_pause_step_and_stop_a_lightning_fit() -> None:
    torch.manual_seed(0)
    module = TinyClassifier()
    callback = AccCallback(port=0, quiet=True, paused=True)
    trainer = pl.Trainer(
        max_epochs=1000,
        accelerator="cpu",
        devices=1,
        callbacks=[callback],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    errors: list[BaseException] = []

    def fit() -> None:
        try:
            trainer.fit(module, _loader())
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    thread = threading.Thread(target=fit, daemon=True)
    thread.start()
    try:
        # Attached paused: the fit waits after its first batch.
        try:
            debugger = callback.wait_attached(WAIT_S)
        except TimeoutError:
            raise AssertionError(f"the fit did not attach: {errors}") from None
        loop = debugger.loop
        assert loop.controller.when_blocked().result(WAIT_S), errors
        assert loop.state().step == 1
        assert loop.submit_step(3).result(WAIT_S) == 4
        assert trainer.global_step == 4  # Lightning's own counter moved by exactly 3
        step, keys = loop.keys()
        assert step == 4
        assert {"weight/net.0.weight", "grad/net.0.weight", "update/net.0.weight"} <= set(keys)
        assert {"scalar/loss", "scalar/train_loss"} <= set(keys)
        layers = loop.layers()
        assert [row["name"] for row in layers["modules"]] == ["net.0", "net.1", "net.2"]
        assert all(row["update_ratio"] > 0 for row in layers["parameters"])
        loop.stop()
        thread.join(WAIT_S)
        assert not thread.is_alive() and not errors
        assert trainer.global_step == 4  # stopped where it was paused: no further step
        assert callback.debugger is None and loop.closed
    finally:
        if thread.is_alive():
            callback_loop = callback.debugger
            if callback_loop is not None:
                callback_loop.loop.controller.request_stop()
            thread.join(WAIT_S)
