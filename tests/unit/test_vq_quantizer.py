"""Quantizers: the seed-004 self-test, EMA against a hand reference, gradients, revival."""

from __future__ import annotations

import math

import pytest
import torch

from acc.vq.quantizer import (
    ResidualVQ,
    VectorQuantizer,
    VectorQuantizerEMA,
    perplexity_of,
    to_vectors,
)


def test_seed_004_self_test() -> None:
    vq = VectorQuantizerEMA(num_codes=512, code_dim=64, decay=0.99, commitment_cost=0.25)
    vq.train()
    z = torch.randn(32, 64, 1, 100, generator=torch.Generator().manual_seed(0))
    z_q, losses, info = vq(z)
    assert z_q.shape == (32, 64, 1, 100)
    assert math.isfinite(float(losses["vq"]))
    assert 0 < float(info["usage"]) <= 1
    assert info["indices"].shape == (32, 1, 100)
    assert set(losses) == {"commitment", "codebook", "vq"}


def test_ema_update_matches_a_hand_computation() -> None:
    vq = VectorQuantizerEMA(num_codes=3, code_dim=2, decay=0.9, eps=1e-5, data_init=False)
    with torch.no_grad():
        vq.embedding.copy_(torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]]))
        vq.ema_w.copy_(vq.embedding)
    z = torch.tensor([[[1.0, 1.0], [-1.0, 0.0], [9.0, 1.0]]])  # [B=1, N=3, D=2]
    _, _, info = vq(z)
    assert info["indices"].tolist() == [[0, 0, 1]]
    # by hand: counts (2, 1, 0); sums ((0, 1), (9, 1), (0, 0))
    size = [0.1 * 2, 0.1 * 1, 0.0]
    w = [[0.9 * 0 + 0.1 * 0, 0.9 * 0 + 0.1 * 1], [0.9 * 10 + 0.1 * 9, 0.1 * 1], [0.0, 9.0]]
    n = sum(size)
    smoothed = [(s + 1e-5) / (n + 3 * 1e-5) * n for s in size]
    expected = [[w[k][j] / smoothed[k] for j in range(2)] for k in range(3)]
    torch.testing.assert_close(vq.ema_cluster_size, torch.tensor(size))
    torch.testing.assert_close(vq.ema_w, torch.tensor(w))
    torch.testing.assert_close(vq.embedding, torch.tensor(expected))


def test_straight_through_gradient_reaches_the_encoder() -> None:
    for vq in (VectorQuantizerEMA(16, 4), VectorQuantizer(16, 4), ResidualVQ(3, 16, 4)):
        z = torch.randn(2, 4, 5, requires_grad=True)
        z_q, _, _ = vq(z)
        z_q.sum().backward()
        assert z.grad is not None
        torch.testing.assert_close(z.grad, torch.ones_like(z))  # identity, once (not per level)


def test_commitment_loss_gives_the_encoder_a_nonzero_gradient() -> None:
    for vq in (VectorQuantizerEMA(16, 4), VectorQuantizer(16, 4), ResidualVQ(2, 16, 4, "learned")):
        z = torch.randn(3, 4, 7, requires_grad=True)
        _, losses, _ = vq(z)
        losses["commitment"].backward()
        assert z.grad is not None and float(z.grad.abs().sum()) > 0


def test_learned_codebook_gets_gradients_from_the_codebook_loss() -> None:
    vq = VectorQuantizer(8, 3, data_init=False)
    _, losses, info = vq(torch.randn(4, 3, 6))
    losses["vq"].backward()
    grad = vq.weight.grad
    assert grad is not None
    used = info["counts"] > 0
    assert float(grad[used].abs().sum()) > 0 and float(grad[~used].abs().sum()) == 0


def test_revival_reseeds_dead_codes_and_resets_their_ema_state() -> None:
    vq = VectorQuantizerEMA(num_codes=8, code_dim=2, dead_code_threshold=0.5, data_init=False)
    z = torch.full((1, 5, 2), 3.0) + torch.randn(1, 5, 2) * 0.01  # one cluster: most codes die
    _, _, info = vq(z)
    revived = info["revived"]
    assert revived, "codes below the threshold must be revived"
    flat = z.reshape(-1, 2)
    for event in revived:
        assert event.old_count < 0.5
        assert float(vq.ema_cluster_size[event.code]) == 1.0
        torch.testing.assert_close(vq.ema_w[event.code], flat[event.source])
        torch.testing.assert_close(vq.embedding[event.code], flat[event.source])


def test_no_update_and_no_revival_in_eval_or_no_grad() -> None:
    vq = VectorQuantizerEMA(8, 2, dead_code_threshold=0.5)
    before = vq.embedding.clone()  # not initialised from data either: that needs a training pass
    vq.eval()
    _, _, info = vq(torch.randn(1, 5, 2))
    vq.train()
    with torch.no_grad():
        vq(torch.randn(1, 5, 2))
    assert torch.equal(vq.embedding, before) and info["revived"] == []


def test_layouts_channels_first_and_last() -> None:
    flat, restore, shape = to_vectors(torch.arange(24.0).reshape(2, 3, 4), 3)
    assert flat.shape == (8, 3) and shape == (2, 4)  # [B, D=3, T=4] channel-first
    assert torch.equal(restore(flat), torch.arange(24.0).reshape(2, 3, 4))
    flat, _, shape = to_vectors(torch.zeros(2, 5, 3), 3)
    assert shape == (2, 5)  # [B, N, D]
    with pytest.raises(ValueError, match="no axis of size code_dim=7"):
        to_vectors(torch.zeros(2, 5, 3), 7)


def test_residual_levels_shrink_the_error_and_stack_their_info() -> None:
    torch.manual_seed(0)
    rvq = ResidualVQ(3, 32, 4, "ema", decay=0.5)
    z = torch.randn(8, 4, 10)
    for _ in range(30):
        rvq(z)
    _, losses, info = rvq(z)
    errors = info["quantization_error"]
    assert errors.shape == (3,) and bool((errors[1:] < errors[:-1]).all())
    assert info["indices"].shape == (3, 8, 10) and info["counts"].shape == (3, 32)
    assert rvq.codebooks().shape == (3, 32, 4)
    assert set(losses) == {"commitment", "codebook", "vq"}


def test_perplexity_edge_cases() -> None:
    assert float(perplexity_of(torch.tensor([5, 0, 0]))) == pytest.approx(1.0)
    assert float(perplexity_of(torch.tensor([1, 1, 1, 1]))) == pytest.approx(4.0)
    assert float(perplexity_of(torch.tensor([0, 0]))) == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_codes": 1}, "num_codes must be >= 2"),
        ({"decay": 1.0}, "decay must be in"),
        ({"commitment_cost": -1.0}, "commitment_cost must be >= 0"),
        ({"dead_code_threshold": 0.0}, "dead_code_threshold must be > 0"),
    ],
)
def test_bad_arguments_name_the_value(kwargs: dict[str, float], message: str) -> None:
    options: dict[str, float] = {"num_codes": 8, "code_dim": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        VectorQuantizerEMA(**options)  # type: ignore[arg-type]


def test_sinkhorn_loss_pulls_a_dead_code_toward_the_data() -> None:
    from acc.vq.sinkhorn import sinkhorn_loss

    data = torch.randn(64, 2)
    codes = torch.cat([torch.randn(3, 2), torch.full((1, 2), 20.0)]).requires_grad_(True)
    loss = sinkhorn_loss(data, codes, epsilon=0.05, iterations=200)
    loss.backward()
    assert codes.grad is not None
    far = codes.grad[3]
    # a gradient step moves the far (dead) code toward the data at the origin
    assert float(((codes[3] - 0.1 * far).detach()).norm()) < float(codes[3].detach().norm())
    with pytest.raises(ValueError, match="epsilon must be > 0"):
        sinkhorn_loss(data, codes, epsilon=0)


def test_codes_start_at_vectors_of_the_first_training_batch() -> None:
    vq = VectorQuantizerEMA(4, 2, decay=0.999)
    z = torch.randn(1, 50, 2) * 0.01 + 5.0  # far from the N(0, 1) initial codes
    _, _, info = vq(z)
    assert bool(vq.initialized)
    assert float(info["usage"]) > 0.25  # more than the single nearest code
    assert float((vq.embedding - 5.0).abs().max()) < 0.5
