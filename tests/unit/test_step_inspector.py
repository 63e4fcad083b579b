from __future__ import annotations

import numpy as np
import pytest
import torch

from acc.step_inspector import (
    KEY_META,
    CaptureError,
    StepInspector,
    StepNotRetained,
    StepTensorKey,
)

K = StepTensorKey


def _capture_step(inspector: StepInspector, step: int, d: int = 4) -> None:
    inspector.capture(K.LOSS, torch.tensor(1.0 / step))
    inspector.capture(K.WIN_RATE, torch.full((d,), float(step)))
    inspector.capture(K.ENCODER_WEIGHTS, torch.full((d, 784), float(step)))


def test_every_key_has_metadata_with_consistent_history_flag() -> None:
    assert set(KEY_META) == set(StepTensorKey)
    for key, meta in KEY_META.items():
        small = len(meta.shape) == 0 or meta.shape in (("D",), ("B",), ("L",))
        assert meta.history == small, key
        assert meta.description


def test_capture_copies_off_the_live_tensor() -> None:
    inspector = StepInspector()
    live = torch.zeros(3, 784)
    inspector.capture(K.ENCODER_WEIGHTS, live)
    live += 1  # e.g. the optimizer stepping in place after the capture
    data = inspector.collect(1)
    assert data.arrays["encoder_weights"].dtype == np.float32
    assert float(data.arrays["encoder_weights"].max()) == 0.0


def test_capture_accepts_wire_names_and_converts_ints() -> None:
    inspector = StepInspector()
    inspector.capture("neighbors", torch.tensor([[1, 2], [0, 2], [0, 1]]))
    assert inspector.collect(1).arrays["neighbors"].dtype == np.int32


def test_capture_rejects_unknown_key_and_wrong_rank() -> None:
    inspector = StepInspector()
    with pytest.raises(
        CaptureError, match="unknown step tensor key 'bogus'; known keys: batch_images"
    ):
        inspector.capture("bogus", torch.zeros(1))
    with pytest.raises(
        CaptureError, match=r"win_rate must have rank 1 \(shape \[D\]\), got shape \[2, 2\]"
    ):
        inspector.capture(K.WIN_RATE, torch.zeros(2, 2))


def test_commit_archives_and_starts_empty() -> None:
    inspector = StepInspector()
    _capture_step(inspector, 1)
    committed = inspector.commit(1)
    assert committed.step == 1 and set(committed.arrays) == {"loss", "win_rate", "encoder_weights"}
    assert inspector.collect(2).arrays == {}
    assert inspector.get_step(1) is committed
    assert inspector.last_step == 1 and inspector.step_count == 1
    with pytest.raises(ValueError, match="step 1 is not after the last committed step 1"):
        inspector.commit(1)


def test_ring_buffer_evicts_by_count_and_keeps_history() -> None:
    inspector = StepInspector(max_full_snapshots=3)
    for step in range(1, 8):
        _capture_step(inspector, step)
        inspector.commit(step)
    assert inspector.retained_range == (5, 7)
    with pytest.raises(StepNotRetained, match=r"step 2 was evicted .* held for steps 5\.\.7"):
        inspector.get_step(2)
    with pytest.raises(StepNotRetained, match="step 9 has not run"):
        inspector.get_step(9)
    history = inspector.history()
    assert history.steps.tolist() == list(range(1, 8))
    assert history.columns["loss"].shape == (7,)
    assert history.columns["win_rate"][:, 0].tolist() == list(range(1, 8))
    assert "encoder_weights" not in history.columns  # [D, 784] is not a history key


def test_ring_buffer_evicts_by_bytes() -> None:
    one_step = 4 * 784 * 4 + 4 * 4 + 4  # encoder weights + win rate + loss
    inspector = StepInspector(max_full_snapshots=50, max_snapshot_bytes=int(2.5 * one_step))
    for step in range(1, 6):
        _capture_step(inspector, step)
        inspector.commit(step)
    assert inspector.retained_range == (4, 5)
    assert inspector.snapshot_bytes == 2 * one_step <= inspector.max_snapshot_bytes


def test_snapshot_larger_than_budget_is_not_retained_but_history_is() -> None:
    inspector = StepInspector(max_snapshot_bytes=100)
    _capture_step(inspector, 1)
    inspector.commit(1)
    assert inspector.retained_range is None and inspector.snapshot_bytes == 0
    assert inspector.history().steps.tolist() == [1]


def test_history_since_returns_only_newer_steps_and_marks_missing() -> None:
    inspector = StepInspector()
    for step in (1, 2, 3):
        inspector.capture(K.LOSS, float(step))
        if step == 3:
            inspector.capture(K.IMAGE_COVERAGE, torch.ones(5))
        inspector.commit(step)
    later = inspector.history(since=2)
    assert later.steps.tolist() == [2, 3]
    assert later.columns["loss"].tolist() == [2.0, 3.0]
    # A vector column born at step 3 holds no row for step 2: one leading row is missing.
    assert later.offsets == {"image_coverage": 1}
    assert later.columns["image_coverage"].tolist() == [[1.0] * 5]
    assert inspector.history(since=4).steps.size == 0
    # A scalar born late comes padded with NaN, so scalar columns always match `steps`.
    inspector.capture(K.LOSS, 4.0)
    inspector.capture(K.WEIGHT_COSINE_MEAN, 0.5)
    inspector.commit(4)
    cosine = inspector.history().columns["weight_cosine_mean"]
    assert np.isnan(cosine[:3]).all() and cosine[3] == 0.5


def _commit_steps(inspector: StepInspector, steps: range) -> None:
    for step in steps:
        inspector.capture(K.LOSS, float(step))
        inspector.capture(K.WIN_RATE, torch.full((3,), float(step)))
        inspector.commit(step, full=False)


def test_vector_history_keeps_only_the_most_recent_window() -> None:
    inspector = StepInspector(max_history_steps=1000, max_vector_history=80)
    _commit_steps(inspector, range(1, 501))
    history = inspector.history()
    # every scalar, only the recent vectors (at most the window plus the eighth dropped at once)
    assert history.steps.tolist() == list(range(1, 501))
    assert history.columns["loss"].tolist() == [float(s) for s in range(1, 501)]
    kept = history.columns["win_rate"]
    assert 80 - 10 <= kept.shape[0] <= 80
    assert history.offsets["win_rate"] == 500 - kept.shape[0]
    assert history.vectors_from == 500 - kept.shape[0] + 1
    assert kept[:, 0].tolist() == [float(s) for s in range(history.vectors_from, 501)]
    # the column's storage stays at the window, however long the session
    _commit_steps(inspector, range(501, 1201))
    at_the_limits = inspector.history_bytes
    _commit_steps(inspector, range(1201, 4001))
    assert inspector.history_bytes == at_the_limits
    # a `since` inside the window gets no leading gap
    recent = inspector.history(since=3980)
    assert recent.offsets == {} and recent.columns["win_rate"].shape == (21, 3)


def test_scalar_history_is_bounded_too_and_old_steps_read_as_evicted() -> None:
    inspector = StepInspector(max_full_snapshots=1, max_history_steps=64, max_vector_history=16)
    _commit_steps(inspector, range(1, 201))
    history = inspector.history()
    assert 56 <= history.steps.size <= 64 and history.steps[-1] == 200
    assert history.columns["loss"].tolist() == history.steps.astype(float).tolist()
    assert inspector.step_count == 200
    with pytest.raises(StepNotRetained, match="evicted"):
        inspector.get_step(3)
    with pytest.raises(StepNotRetained, match="has not run"):
        inspector.get_step(201)


def test_history_limit_and_keys() -> None:
    inspector = StepInspector()
    _commit_steps(inspector, range(1, 11))
    page = inspector.history(since=2, limit=4)
    assert page.steps.tolist() == [2, 3, 4, 5] and page.more
    assert set(page.columns) == {"loss", "win_rate"}
    rest = inspector.history(since=6, limit=4)
    assert rest.steps.tolist() == [6, 7, 8, 9] and rest.more
    assert not inspector.history(since=10, limit=4).more
    only_loss = inspector.history(keys=["loss"])
    assert set(only_loss.columns) == {"loss"} and only_loss.columns["loss"].shape == (10,)
    with pytest.raises(ValueError, match="limit"):
        inspector.history(limit=0)


def test_failed_attempts_are_recorded_and_shown_in_history() -> None:
    inspector = StepInspector()
    _commit_steps(inspector, range(1, 4))
    inspector.capture(K.LOSS, 9.0)  # half-captured when the step raised
    record = inspector.mark_failed(4, RuntimeError("shape mismatch " + "x" * 2000))
    assert record.step == 4 and record.error == "RuntimeError" and len(record.message) <= 500
    assert inspector.collect(4).arrays == {}  # the half-captured step is gone
    _commit_steps(inspector, range(4, 6))  # the session goes on
    history = inspector.history(since=4)
    assert history.steps.tolist() == [4, 5]
    assert [failed.step for failed in history.failed] == [4]
    assert inspector.history(since=5).failed == ()
    assert inspector.history(since=1, limit=2).failed == ()  # outside the page
    assert inspector.failed_steps == (record,)


def test_history_grows_past_initial_capacity() -> None:
    inspector = StepInspector(max_full_snapshots=1)
    for step in range(1, 701):
        inspector.capture(K.LOSS, float(step))
        inspector.capture(K.WIN_RATE, torch.full((2,), float(step)))
        inspector.commit(step)
    history = inspector.history(since=650)
    assert history.steps.tolist() == list(range(650, 701))
    assert history.columns["loss"].tolist() == [float(s) for s in range(650, 701)]
    assert history.columns["win_rate"][-1].tolist() == [700.0, 700.0]


def test_nonfinite_counts_and_clear() -> None:
    inspector = StepInspector()
    inspector.capture(K.WIN_RATE, torch.tensor([1.0, float("nan"), float("inf"), 0.0]))
    inspector.capture(K.LOSS, float("nan"))
    data = inspector.commit(1)
    assert data.nonfinite() == {"win_rate": 2, "loss": 1}
    inspector.clear()
    assert inspector.step_count == 0 and inspector.retained_range is None
    assert inspector.history().columns == {}


def test_discard_drops_a_half_captured_step() -> None:
    inspector = StepInspector()
    inspector.capture(K.LOSS, 1.0)
    inspector.discard()
    assert inspector.collect(1).arrays == {}


def test_a_fresh_capture_is_kept_without_a_copy_and_a_live_one_is_copied() -> None:
    inspector = StepInspector()
    fresh = torch.ones(4)
    live = torch.ones(4)
    inspector.capture(K.WIN_RATE, fresh, fresh=True)
    inspector.capture(K.FEATURE_NOVELTY, live)
    fresh += 1
    live += 1
    data = inspector.collect(1)
    assert data.arrays["win_rate"].tolist() == [2.0] * 4  # shares memory: fresh means unmodified
    assert data.arrays["feature_novelty"].tolist() == [1.0] * 4


def test_a_scalar_is_read_as_a_copy_of_its_value() -> None:
    inspector = StepInspector()
    weight = torch.tensor(0.5, requires_grad=True)
    loss = weight * 3  # part of a graph, as the loss is
    live = torch.tensor(2.0)
    inspector.capture(K.LOSS, loss, fresh=True)
    inspector.capture(K.WEIGHT_COSINE_MEAN, live)
    inspector.capture(K.GRAD_COSINE_MEAN, torch.tensor(1 / 3, dtype=torch.float64))
    inspector.capture(K.SOM_TARGET_COSINE_MEAN, torch.tensor(float("nan")))
    live += 1  # changed in place after the capture
    arrays = inspector.collect(1).arrays
    assert {k: (a.shape, a.dtype) for k, a in arrays.items()} == {
        k: ((), np.dtype(np.float32))
        for k in ("loss", "weight_cosine_mean", "grad_cosine_mean", "som_target_cosine_mean")
    }
    assert float(arrays["loss"]) == 1.5
    assert float(arrays["weight_cosine_mean"]) == 2.0
    assert arrays["grad_cosine_mean"] == np.float32(1 / 3)  # rounded as float32
    assert np.isnan(arrays["som_target_cosine_mean"])
    with pytest.raises(CaptureError, match=r"win_rate must have rank 1"):
        inspector.capture(K.WIN_RATE, torch.tensor(1.0))
