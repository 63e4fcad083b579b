"""Session: one worker thread owns the model; steps run through the real Trainer and are captured."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest
import torch

from acc.data import MnistData
from acc.recipes import TrainingSetup, UnknownConditionError
from acc.session import Session, SessionClosed, StepFailed
from acc.step_inspector import KEY_META, StepTensorKey

VQ_ONLY = {key.value for key, meta in KEY_META.items() if meta.group == "vq"}
BCL_ONLY = {key.value for key, meta in KEY_META.items() if meta.group in ("bcl",)} | {
    "local_target",
    "global_target",
    "som_targets",
    "som_delta",
    "som_magnitude",
    "som_target_cosine",
    "som_target_cosine_mean",
}


@pytest.fixture
def session(mnist: MnistData) -> Iterator[Session]:
    with Session("gradient_gating_l0", "bcl-med", data=mnist, seed=0) as session:
        yield session


def test_a_bcl_step_fills_every_key_with_the_documented_shapes(session: Session) -> None:
    data = session.step(1)
    assert data.step == 1
    assert set(data.arrays) == {key.value for key in StepTensorKey} - VQ_ONLY
    sizes = {"B": 128, "D": 64, "P": 784, "k": None, "C": 1, "H": 28, "W": 28}
    for key, array in data.arrays.items():
        symbols = KEY_META[StepTensorKey(key)].shape
        assert array.ndim == len(symbols), key
        for symbol, size in zip(symbols, array.shape, strict=True):
            if sizes[symbol] is not None:
                assert size == sizes[symbol], (key, symbol, size)


def test_control_fills_every_key_but_the_bcl_ones(mnist: MnistData) -> None:
    with Session("gradient_gating_l0", "control", data=mnist) as session:
        data = session.step(1)
    expected = {key.value for key in StepTensorKey} - BCL_ONLY - VQ_ONLY
    assert set(data.arrays) == expected


def test_step_n_runs_n_real_steps_and_returns_the_last(session: Session) -> None:
    first = session.step(1)
    last = session.step(5)
    assert last.step == 6
    state = session.state()
    assert state.step == 6 and state.history_steps == 6 and state.retained == (1, 6)
    assert state.condition == "bcl-med" and state.model_dim == 64
    assert state.image_shape == (1, 28, 28) and state.pending_steps == 0
    history = session.history()
    np.testing.assert_array_equal(history.steps, np.arange(1, 7))
    assert history.columns["loss"][0] == pytest.approx(float(first.arrays["loss"]))
    # five different batches went through the model
    assert not np.array_equal(first.arrays["batch_images"], last.arrays["batch_images"])
    # the weights moved: W_post of step 1 is W of step 2
    step2 = session.get_step(2)
    np.testing.assert_array_equal(
        first.arrays["encoder_weights_post"], step2.arrays["encoder_weights"]
    )


def test_the_same_seed_gives_the_same_steps(mnist: MnistData, session: Session) -> None:
    a = session.step(3)
    with Session("gradient_gating_l0", "bcl-med", data=mnist, seed=0) as again:
        b = again.step(3)
    np.testing.assert_array_equal(a.arrays["encoder_weights"], b.arrays["encoder_weights"])
    assert float(a.arrays["loss"]) == float(b.arrays["loss"])


def test_concurrent_steps_queue_and_never_interleave(session: Session) -> None:
    results: dict[str, int] = {}
    seen_threads: set[str] = set()

    def on_worker(setup: TrainingSetup) -> None:
        seen_threads.add(threading.current_thread().name)

    def request(name: str, n: int) -> None:
        results[name] = session.step(n).step

    threads = [threading.Thread(target=request, args=(f"r{i}", n)) for i, n in enumerate((4, 3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    session.run_on_worker(on_worker)
    # Either order, but each request's steps are consecutive: its last step is 4 or 7 apart.
    assert sorted(results.values()) in ([3, 7], [4, 7])
    np.testing.assert_array_equal(session.history().steps, np.arange(1, 8))
    assert len(seen_threads) == 1 and next(iter(seen_threads)).startswith("acc-session")


@pytest.mark.parametrize("n", [0, -1, 501, "5", 2.0, True, None])
def test_step_count_out_of_range_is_rejected(session: Session, n: object) -> None:
    with pytest.raises(ValueError, match=r"n must be an integer in 1\.\.500"):
        session.submit_step(n)  # type: ignore[arg-type]
    assert session.state().step == 0


def test_unknown_condition_lists_the_valid_ones(mnist: MnistData) -> None:
    with pytest.raises(UnknownConditionError, match="valid conditions: control, bcl-micro"):
        Session("gradient_gating_l0", "bcl-huge", data=mnist)


def test_a_failing_step_keeps_the_session_and_what_it_captured(session: Session) -> None:
    session.step(2)

    def break_loss(setup: TrainingSetup) -> None:
        original = setup.trainer.loss_fn

        def failing(output: object, batch: object) -> torch.Tensor:
            setup.trainer.loss_fn = original  # fail once
            raise RuntimeError("shape mismatch in user code")

        setup.trainer.loss_fn = failing

    session.run_on_worker(break_loss)
    with pytest.raises(StepFailed, match="step 3 failed: RuntimeError: shape mismatch") as info:
        session.step(1)
    assert "failing" in info.value.summary
    state = session.state()
    assert state.step == 2 and [f.step for f in state.failed_steps] == [3]
    assert session.get_step(2).step == 2
    assert session.step(1).step == 3  # the next step works


def test_close_frees_the_session_and_is_idempotent(mnist: MnistData) -> None:
    session = Session("gradient_gating_l0", "bcl-med", data=mnist)
    session.step(2)
    session.close()
    session.close()
    assert session.closed
    with pytest.raises(SessionClosed):
        session.step(1)
    with pytest.raises(SessionClosed):
        session.state()
    assert session.inspector.step_count == 0
