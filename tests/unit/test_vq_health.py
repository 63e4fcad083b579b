"""Codebook metrics against hand computations; the rolling window; the dynamics monitor."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from acc.recipes.vqvae.health import (
    CodebookHealth,
    codebook_drift,
    dead_code_mask,
    perplexity,
    quantisation_error,
    row_normalise,
    run_length_stats,
    run_lengths,
    transition_counts,
    transition_entropy,
    utilisation,
)
from acc.recipes.vqvae.monitor import CodebookMonitor, pca_2d
from acc.recipes.vqvae.quantizer import ResidualVQ, Revival


def test_perplexity_utilisation_and_dead_codes_by_hand() -> None:
    assert perplexity(np.array([2, 2, 0, 0])) == pytest.approx(2.0)
    p = np.array([3, 1]) / 4
    assert perplexity(np.array([3, 1])) == pytest.approx(math.exp(-(p * np.log(p)).sum()))
    assert utilisation(np.array([2, 2, 0, 0])) == 0.5
    # N = 151, K = 4: a code is dead under 0.01 · 151 / 4 = 0.3775 uses
    assert dead_code_mask(np.array([100, 50, 0, 1])).tolist() == [False, False, True, False]
    assert dead_code_mask(np.array([100, 50, 0, 1]), dead_fraction=0.05).tolist() == [
        False,
        False,
        True,
        True,  # 1 < 0.05 · 151 / 4 = 1.8875
    ]


def test_drift_and_quantisation_error_by_hand() -> None:
    before = np.zeros((2, 3))
    assert codebook_drift(before + 1, before) == pytest.approx(1.0)  # √6 / √(2·3)
    codes = np.array([[0.0, 0.0], [10.0, 0.0]])
    vectors = np.array([[1.0, 0.0], [9.0, 2.0]])
    assert quantisation_error(vectors, codes) == pytest.approx((1.0 + 5.0) / 2)


def test_drift_is_zero_for_an_unchanged_codebook_and_the_shift_for_a_shifted_one() -> None:
    codes = np.array([[0.0, 1.0, 2.0], [3.0, -4.0, 5.0]])  # K = 2, dim = 3
    assert codebook_drift(codes, codes.copy()) == 0.0
    assert codebook_drift(codes + 0.25, codes) == pytest.approx(0.25)  # every coordinate moved
    assert codebook_drift(codes - 2.0, codes) == pytest.approx(2.0)  # by the shift, either way
    moved = codes.copy()
    moved[1, 0] += 3.0  # one coordinate of one code: √(3² / (2·3))
    assert codebook_drift(moved, codes) == pytest.approx(math.sqrt(9 / 6))


def test_quantisation_error_is_zero_on_the_codes_and_the_mean_squared_offset_off_them() -> None:
    codes = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    assert quantisation_error(codes[[0, 1, 2, 1]], codes) == 0.0
    offsets = np.array([[0.5, 0.0], [0.0, -1.0], [1.0, 1.0], [0.0, 0.0]])  # each under 5 away
    vectors = codes[[0, 1, 2, 1]] + offsets
    expected = (offsets**2).sum(1).mean()  # (0.25 + 1 + 2 + 0) / 4
    assert quantisation_error(vectors, codes) == pytest.approx(expected) == pytest.approx(0.8125)


def test_residual_quantizer_reports_each_levels_error_on_the_residual_entering_it() -> None:
    rvq = ResidualVQ(2, 2, 2, "learned", data_init=False).eval()
    level1 = np.array([[0.0, 0.0], [10.0, 0.0]])
    level2 = np.array([[1.0, 0.0], [-1.0, 1.0]])
    with torch.no_grad():
        rvq.quantizers()[0].weight.copy_(torch.tensor(level1))
        rvq.quantizers()[1].weight.copy_(torch.tensor(level2))
        z = np.array([[1.0, 0.0], [9.0, 2.0]])
        _, _, info = rvq(torch.tensor(z, dtype=torch.float32)[None])  # [B=1, N=2, D=2]
    residual = z - level1[[0, 1]]  # [1, 0] and [−1, 2] enter level 2
    errors = info["quantization_error"].numpy()
    assert errors.tolist() == pytest.approx([(1 + 5) / 2, (0 + 1) / 2])
    assert errors[0] == pytest.approx(quantisation_error(z, level1))
    assert errors[1] == pytest.approx(quantisation_error(residual, level2))
    assert errors[1] != pytest.approx(quantisation_error(z, level2))  # not the encoder output


def test_the_window_keeps_drift_and_quantisation_error_last_and_mean() -> None:
    health = CodebookHealth(num_levels=2, num_codes=2, window=3)
    counts = np.array([[1, 1], [2, 0]])
    health.update(1, counts, drift=None, quantisation_error=np.array([4.0, 1.0]))
    first = health.levels()
    assert first[0].codebook_drift is None and first[0].codebook_drift_mean is None  # step 1
    assert first[0].quantisation_error == 4.0 and first[1].quantisation_error_mean == 1.0
    for step in (2, 3, 4):
        health.update(step, counts, np.array([step, 10.0 * step]), np.array([step, 0.5]))
    levels = health.levels()  # the window: steps 2, 3, 4
    assert levels[0].codebook_drift == 4.0 and levels[1].codebook_drift == 40.0
    assert levels[0].codebook_drift_mean == pytest.approx(3.0)
    assert levels[1].codebook_drift_mean == pytest.approx(30.0)
    assert levels[0].quantisation_error == 4.0
    assert levels[0].quantisation_error_mean == pytest.approx(3.0)  # step 1's 4.0 slid out
    assert levels[1].quantisation_error_mean == pytest.approx(0.5)
    report = health.report()
    for name in ("codebook_drift", "quantisation_error"):
        assert name in report["levels"][0] and f"{name}_mean" in report["levels"][0]
        assert report["rules"][name] and report["rules"][f"{name}_mean"]
    health.update(5, counts)  # a step without them: no last values, the window's mean stays
    levels = health.levels()
    assert levels[0].codebook_drift is None and levels[0].quantisation_error is None
    assert levels[0].codebook_drift_mean == pytest.approx(3.5)  # steps 3, 4


def test_monitor_gives_each_steps_drift_and_error_series() -> None:
    monitor = CodebookMonitor(num_levels=2, num_codes=2)
    books = np.zeros((2, 2, 3))
    monitor.record(1, books, quantisation_error=np.array([1.0, 0.5]))
    assert monitor.last_drift is None
    monitor.record(2, books + np.array([0.5, 0.0])[:, None, None], quantisation_error=[2.0, 0.25])
    assert monitor.last_drift is not None
    np.testing.assert_allclose(monitor.last_drift, [0.5, 0.0])
    assert monitor.series([1, 2, 3]) == {
        "drift": [None, [0.5, 0.0], None],
        "quantisation_error": [[1.0, 0.5], [2.0, 0.25], None],
    }
    assert monitor.series([2]) == {"drift": [[0.5, 0.0]], "quantisation_error": [[2.0, 0.25]]}


def test_transitions_and_run_lengths_never_cross_samples() -> None:
    sequences = np.array([[0, 0, 1], [1, 2, 2]])
    counts = transition_counts(sequences, 3)
    expected = np.zeros((3, 3), dtype=int)
    expected[0, 0] = expected[0, 1] = expected[1, 2] = expected[2, 2] = 1
    np.testing.assert_array_equal(counts, expected)  # no 1 → 1 from the end of row 0
    np.testing.assert_allclose(row_normalise(counts)[0], [0.5, 0.5, 0.0])
    # rows 0 (two transitions, 50/50) and 1, 2 (one each, certain): 2·log 2 / 4
    assert transition_entropy(counts) == pytest.approx(2 * math.log(2) / 4)
    assert run_lengths(sequences).tolist() == [2, 1, 1, 2]  # the 1s do not merge into a run
    assert run_length_stats(run_lengths(sequences)) == {
        "count": 4,
        "mean": 1.5,
        "median": 1.5,
        "max": 2.0,
    }
    assert run_lengths(np.array([[4, 4, 4, 4]])).tolist() == [4]


def test_rolling_window_slides_and_warns() -> None:
    health = CodebookHealth(num_levels=2, num_codes=4, window=3, warmup_steps=2)
    level2 = [5, 5, 5, 5]
    health.update(1, np.array([[4, 0, 0, 0], level2]))
    health.update(2, np.array([[0, 4, 0, 0], level2]))
    first = health.levels()[0]
    assert first.utilisation == 0.5 and first.counts == [4, 4, 0, 0]
    assert first.perplexity == pytest.approx(2.0) and first.batch_perplexity == pytest.approx(1.0)
    assert any("level 1: utilisation 50%" in w for w in health.warnings()) is False  # ≥ 30%
    for step in (3, 4, 5):
        health.update(step, np.array([[4, 0, 0, 0], level2]))
    first = health.levels()[0]
    assert first.counts == [12, 0, 0, 0]  # only the last 3 batches
    assert first.utilisation == 0.25 and first.dead_codes == 3
    assert first.dead_rising  # 2 dead one window ago, 3 now
    warnings = health.warnings()
    assert "level 1: utilisation 25.0% is below 30% (last 3 batches)" in warnings
    assert not any(w.startswith("level 2") for w in warnings)
    report = health.report()
    assert report["levels"][1]["utilisation"] == 1.0 and "rules" in report


def test_monitor_snapshots_grad_ema_and_events() -> None:
    monitor = CodebookMonitor(num_levels=1, num_codes=3, snapshot_every=50, max_snapshots=4)
    grads = np.zeros((1, 3, 2))
    for step in range(1, 301):
        grads[0, 0] = [3.0, 4.0]  # norm 5 for code 0, 0 for the rest
        monitor.record(step, np.full((1, 3, 2), float(step)), code_grads=grads)
    steps, books = monitor.snapshots()
    assert steps == [150, 200, 250, 300] and len(books) == 4  # every 50, the last 4 kept
    assert monitor.grad_ema is not None
    np.testing.assert_allclose(monitor.grad_ema[0], [5.0, 0.0, 0.0])
    monitor.record(301, books[-1], revived=[[Revival(code=2, old_count=0.01, source=7)]])
    assert monitor.events_since(301) == [
        {"step": 301, "level": 1, "code": 2, "old_count": 0.01, "source": "batch vector 7"}
    ]
    drift = monitor.drift(since=300)
    assert drift["steps"] == [300, 301]


def test_grad_ema_uses_alpha_005() -> None:
    monitor = CodebookMonitor(1, 2)
    monitor.record(1, np.zeros((1, 2, 1)), code_grads=np.array([[[1.0], [0.0]]]))
    monitor.record(2, np.zeros((1, 2, 1)), code_grads=np.array([[[0.0], [2.0]]]))
    assert monitor.grad_ema is not None
    np.testing.assert_allclose(monitor.grad_ema[0], [0.95, 0.1])


def test_trajectories_project_to_2d() -> None:
    rng = np.random.default_rng(0)
    monitor = CodebookMonitor(1, 5, snapshot_every=1)
    for step in range(1, 4):
        monitor.record(step, rng.normal(size=(1, 5, 8)))
    result = monitor.trajectories(0, dead=np.array([True, False, False, False, False]))
    assert np.array(result["points"]).shape == (5, 3, 2)  # [K, S, 2]
    assert result["dead"][0] is True and result["projection"] == "PCA of the latest snapshot"
    flat = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(pca_2d(flat, flat), flat)
