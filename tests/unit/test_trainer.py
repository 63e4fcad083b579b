from __future__ import annotations

import threading
from typing import cast

import pytest
import torch

from acc.callbacks import Callback, CallbackList, LambdaCallback
from acc.data import BatchIterator, MnistData
from acc.recipes.bcl.model import LinearAutoencoder
from acc.trainer import StepInfo, Trainer, reconstruction_loss


def _trainer(mnist: MnistData, seed: int = 0, loss: str = "l1") -> Trainer:
    torch.manual_seed(seed)
    model = LinearAutoencoder(dim=16)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batches = BatchIterator(mnist.train, batch_size=128, seed=seed)
    return Trainer(model, optimizer, batches, reconstruction_loss(loss), "cpu")  # type: ignore[arg-type]


def test_linear_autoencoder_shapes_and_named_encoder() -> None:
    model = LinearAutoencoder(dim=8)
    with torch.no_grad():
        latent, reconstruction = model(torch.rand(3, 1, 28, 28))
    assert latent.shape == (3, 8) and reconstruction.shape == (3, 784)
    assert isinstance(dict(model.named_modules())["encoder.0"], torch.nn.Linear)
    assert float(latent.min()) >= 0.0  # ReLU
    assert float(reconstruction.min()) >= 0.0 and float(reconstruction.max()) <= 1.0  # Sigmoid


def test_step_calls_persist_position_and_state(mnist: MnistData) -> None:
    """100 calls of train(1) see the same batches, in order, as one train(100)."""
    seen_single: list[torch.Tensor] = []
    seen_many: list[torch.Tensor] = []
    single, many = _trainer(mnist), _trainer(mnist)
    for _ in range(100):
        single.train(
            1,
            [
                LambdaCallback(
                    on_after_backward=lambda i: seen_single.append(i.batch.sample_indices)
                )
            ],
        )
    results = many.train(
        100, [LambdaCallback(on_after_backward=lambda i: seen_many.append(i.batch.sample_indices))]
    )
    assert len(seen_single) == len(seen_many) == 100
    assert all(torch.equal(a, b) for a, b in zip(seen_single, seen_many, strict=True))
    assert [r.step for r in results] == list(range(1, 101))
    assert single.global_step == many.global_step == 100
    # 100 steps cross the epoch boundary (70 batches of 128 per epoch of 9000)
    assert results[-1].epoch == 1 and results[69].epoch == 0
    for a, b in zip(single.model.parameters(), many.model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_callback_order_and_what_each_callback_sees(mnist: MnistData) -> None:
    trainer = _trainer(mnist)
    calls: list[str] = []
    weight = trainer.model.encoder[0].weight  # type: ignore[index]
    trainer.model.register_forward_hook(lambda *_: calls.append("forward"))
    inner_loss = trainer.loss_fn

    def loss_fn(output: object, batch: object) -> torch.Tensor:
        calls.append("loss")
        return inner_loss(output, batch)  # type: ignore[arg-type]

    trainer.loss_fn = loss_fn
    weight.register_hook(lambda grad: calls.append("backward"))
    original_step = trainer.optimizer.step

    def step(*args: object, **kwargs: object) -> object:
        calls.append("optimizer.step")
        return original_step(*args, **kwargs)  # type: ignore[arg-type]

    trainer.optimizer.step = step  # type: ignore[method-assign]
    snapshots: dict[str, torch.Tensor] = {}

    def metrics(info: StepInfo) -> None:
        calls.append("on_after_backward")
        assert weight.grad is not None and float(weight.grad.abs().sum()) > 0
        snapshots["before"] = weight.detach().clone()

    def on_step(info: StepInfo) -> None:
        calls.append("on_step_end")
        assert not torch.equal(weight.detach(), snapshots["before"])  # optimizer has stepped

    starts: list[int] = []
    hooks = LambdaCallback(
        on_step_start=lambda step: calls.append("on_step_start") or starts.append(step),
        on_after_backward=metrics,
        on_step_end=on_step,
    )
    trainer.train(2, [hooks])
    one_step = [
        "on_step_start",
        "forward",
        "loss",
        "backward",
        "on_after_backward",
        "optimizer.step",
        "on_step_end",
    ]
    assert calls == one_step * 2 and starts == [1, 2]


def test_stop_from_another_thread_ends_after_current_step(mnist: MnistData) -> None:
    trainer = _trainer(mnist)
    reached = threading.Event()
    release = threading.Event()

    def on_step(info: StepInfo) -> None:
        if info.step == 3:
            reached.set()
            assert release.wait(10)

    results: list[object] = []
    worker = threading.Thread(
        target=lambda: results.extend(trainer.train(1000, [LambdaCallback(on_step_end=on_step)]))
    )
    worker.start()
    assert reached.wait(30)
    trainer.stop()  # from the test's thread while the worker is inside step 3
    release.set()
    worker.join(30)
    assert not worker.is_alive()
    assert len(results) == 3  # step 3 finished, step 4 never started
    assert trainer.train(2) and trainer.global_step == len(results) + 2  # the stop was consumed


def test_stop_requested_while_idle_is_not_lost(mnist: MnistData) -> None:
    trainer = _trainer(mnist)
    trainer.stop()
    assert trainer.train(5) == []
    assert len(trainer.train(2)) == 2


def test_loss_decreases_over_200_steps(mnist: MnistData) -> None:
    trainer = _trainer(mnist, seed=0)
    results = trainer.train(200)
    first = sum(r.loss for r in results[:10]) / 10
    last = sum(r.loss for r in results[-10:]) / 10
    assert last < 0.6 * first, (first, last)


def test_mse_loss_is_selectable_and_bad_kind_rejected(mnist: MnistData) -> None:
    result = _trainer(mnist, loss="mse").train(1)[0]
    assert result.losses == {"loss": result.loss}
    with pytest.raises(ValueError, match="'l1' or 'mse', got 'huber'"):
        reconstruction_loss("huber")  # type: ignore[arg-type]


def test_negative_steps_rejected(mnist: MnistData) -> None:
    with pytest.raises(ValueError, match="steps must be >= 0, got -1"):
        _trainer(mnist).train(-1)


def test_a_run_without_kept_results_trains_the_same_and_holds_no_list(mnist: MnistData) -> None:
    """A free run is one long train() call: its per-step results must not pile up."""
    kept, lean = _trainer(mnist), _trainer(mnist)
    steps: list[int] = []
    assert len(kept.train(30)) == 30
    assert (
        lean.train(
            30,
            [LambdaCallback(on_step_end=lambda info: steps.append(info.step))],
            keep_results=False,
        )
        == []
    )
    assert steps == list(range(1, 31)) and lean.global_step == 30
    for a, b in zip(kept.model.parameters(), lean.model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_callback_list_calls_only_the_hooks_a_callback_overrides_in_order() -> None:
    calls: list[str] = []

    class Ends(Callback):
        def on_step_end(self, info: StepInfo) -> None:
            calls.append("ends")

    class Quiet(Callback):  # overrides nothing: its no-op hooks are not called at all
        def __getattribute__(self, name: str) -> object:
            if name.startswith("on_step") or name == "on_after_backward":
                calls.append(f"looked up {name}")
            return super().__getattribute__(name)

    class Duck:  # not a Callback subclass: every hook it has is called
        def on_step_start(self, step: int) -> None:
            calls.append(f"duck start {step}")

        def on_after_backward(self, info: StepInfo) -> None:
            calls.append("duck backward")

        def on_step_end(self, info: StepInfo) -> None:
            calls.append("duck end")

    on_its_own = Callback()
    on_its_own.on_step_start = lambda step: calls.append(f"own start {step}")  # type: ignore[method-assign]
    hooks = CallbackList([Ends(), Quiet(), Duck(), on_its_own])  # type: ignore[list-item]
    calls.clear()  # the lookups made while building the list
    info = cast(StepInfo, None)
    hooks.on_step_start(3)
    hooks.on_after_backward(info)
    hooks.on_step_end(info)
    assert calls == ["duck start 3", "own start 3", "duck backward", "ends", "duck end"]
