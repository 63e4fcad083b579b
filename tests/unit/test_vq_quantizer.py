"""Quantizers: the seed-004 self-test, EMA against a hand reference, gradients, revival."""

from __future__ import annotations

import math

import pytest
import torch

from acc.recipes.vqvae.quantizer import (
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
        vq.ema_w.copy_(vq.embedding)  # the EMA state starts at a count of 1 per code
    z = torch.tensor([[[1.0, 1.0], [-1.0, 0.0], [9.0, 1.0]]])  # [B=1, N=3, D=2]
    _, _, info = vq(z)
    assert info["indices"].tolist() == [[0, 0, 1]]
    # by hand: counts (2, 1, 0); sums ((0, 1), (9, 1), (0, 0)); initial counts 1, sums the codes
    size = [0.9 + 0.1 * 2, 0.9 + 0.1 * 1, 0.9]
    w = [[0.0, 0.1 * 1], [0.9 * 10 + 0.1 * 9, 0.1 * 1], [0.0, 0.9 * 10]]
    n = sum(size)
    smoothed = [(s + 1e-5) / (n + 3 * 1e-5) * n for s in size]
    expected = [[w[k][j] / smoothed[k] for j in range(2)] for k in range(3)]
    torch.testing.assert_close(vq.ema_cluster_size, torch.tensor(size))
    torch.testing.assert_close(vq.ema_w, torch.tensor(w))
    torch.testing.assert_close(vq.embedding, torch.tensor(expected))
    # the unused code stays (up to the Laplace smoothing) where it was, not sum / ε ≈ 1e6
    torch.testing.assert_close(vq.embedding[2], torch.tensor([0.0, 10.0]), atol=1e-3, rtol=0)


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
    vq = VectorQuantizerEMA(num_codes=8, code_dim=2, dead_code_threshold=1.5, data_init=False)
    z = torch.full((1, 5, 2), 3.0) + torch.randn(1, 5, 2) * 0.01  # one cluster: most codes die
    _, _, info = vq(z)
    revived = info["revived"]
    assert revived, "codes below the threshold must be revived"
    flat = z.reshape(-1, 2)
    fresh = vq._fresh_count()
    for event in revived:
        assert event.old_count < 1.5
        assert float(vq.ema_cluster_size[event.code]) == pytest.approx(fresh)
        torch.testing.assert_close(vq.ema_w[event.code], flat[event.source] * fresh)
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
    from acc.recipes.vqvae.sinkhorn import sinkhorn_loss

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


# --- the initial EMA state without data initialisation --------------------------------------


def _clustered_stream(
    steps: int, vectors: int, dim: int, clusters: int, seed: int
) -> list[torch.Tensor]:
    """Batches `[1, vectors, dim]` drawn around `clusters` fixed N(0, 1) centres."""
    generator = torch.Generator().manual_seed(seed)
    centres = torch.randn(clusters, dim, generator=generator)  # [C, D]
    batches = []
    for _ in range(steps):
        which = torch.randint(clusters, (vectors,), generator=generator)  # [M]
        noise = 0.3 * torch.randn(vectors, dim, generator=generator)  # [M, D]
        batches.append((centres[which] + noise)[None])  # [1, M, D]
    return batches


def test_initial_ema_state_reproduces_the_codebook() -> None:
    vq = VectorQuantizerEMA(16, 4, data_init=False)
    assert torch.equal(vq.ema_cluster_size, torch.ones(16))
    torch.testing.assert_close(vq.ema_w / vq.ema_cluster_size[:, None], vq.embedding)


def test_unused_codes_stay_put_after_a_step_without_data_init() -> None:
    vq = VectorQuantizerEMA(64, 4, decay=0.99, data_init=False)
    before = vq.embedding.clone()  # [K, D]
    _, _, info = vq(torch.randn(1, 32, 4) * 0.01 + 3.0)  # one tight cluster: a few codes used
    unused = info["counts"] == 0
    assert int(unused.sum()) > 50
    torch.testing.assert_close(vq.embedding[unused], before[unused], atol=1e-4, rtol=0)
    assert float(vq.embedding.norm(dim=1).max()) < 10


def test_without_data_init_a_clustered_stream_keeps_many_codes_in_use() -> None:
    # the issue: counts 0 with sums = codes blew unused codes up to ~1e6 and 2 codes stayed used
    vq = VectorQuantizerEMA(256, 16, decay=0.99, data_init=False)
    used: set[int] = set()
    for step, z in enumerate(_clustered_stream(60, 512, 16, 64, seed=1)):
        _, _, info = vq(z)
        if step >= 50:
            used |= set(info["indices"].flatten().tolist())
    assert len(used) >= 40  # vector-quantize-pytorch 1.32: 59 on the same stream at 100 steps


# --- dead-code revival ------------------------------------------------------------------------


def test_a_revived_code_starts_at_or_above_the_threshold() -> None:
    vq = VectorQuantizerEMA(8, 2, decay=0.99, dead_code_threshold=2.0, data_init=False)
    z = torch.randn(1, 16, 2, generator=torch.Generator().manual_seed(0))
    _, _, info = vq(z)
    assert info["revived"]
    flat = z.reshape(-1, 2)
    for event in info["revived"]:
        count = vq.ema_cluster_size[event.code]
        assert float(count) >= 2.0  # a count of 1 would be dead again at the next step
        torch.testing.assert_close(vq.ema_w[event.code] / count, flat[event.source])


def test_a_revived_unused_code_is_protected_for_the_ema_time_constant() -> None:
    # P = ⌈1 / (1 − decay)⌉ = 10 steps at decay 0.9
    vq = VectorQuantizerEMA(8, 2, decay=0.9, dead_code_threshold=2.0, data_init=False)
    generator = torch.Generator().manual_seed(0)
    spread = torch.randn(1, 8, 2, generator=generator) * 5  # step 1: every code dies, 8 sources
    _, _, info = vq(spread)
    assert sorted(event.code for event in info["revived"]) == list(range(8))
    revived_at: dict[int, list[int]] = {}
    for step in range(2, 14):
        z = torch.randn(1, 16, 2, generator=generator) * 0.01 + 40.0  # far from every code
        _, _, info = vq(z)
        for event in info["revived"]:
            revived_at.setdefault(event.code, []).append(step)
    # the code nearest the cluster takes it all; the other 7 stay unused for 10 steps (2..11),
    # and are revived at step 12 (the cluster's distinct vectors are enough for all of them)
    assert len(revived_at) == 7
    assert all(steps == [12] for steps in revived_at.values()), revived_at


def test_revival_never_duplicates_a_source_vector() -> None:
    vq = VectorQuantizerEMA(16, 2, dead_code_threshold=2.0, data_init=False)
    z = torch.randn(1, 4, 2, generator=torch.Generator().manual_seed(0))  # 16 dead, 4 vectors
    _, _, info = vq(z)
    revived = info["revived"]
    assert len(revived) == 4
    assert len({event.source for event in revived}) == 4
    assert len({event.code for event in revived}) == 4
    assert torch.unique(vq.embedding, dim=0).shape[0] == 16  # no two codes alike
    # the 12 left over wait for later batches (and are not re-seeded from the same vectors)
    _, _, info = vq(torch.randn(1, 4, 2, generator=torch.Generator().manual_seed(1)))
    assert len(info["revived"]) == 4 and torch.unique(vq.embedding, dim=0).shape[0] == 16


def test_revival_counts_equal_vectors_once() -> None:
    vq = VectorQuantizerEMA(16, 2, dead_code_threshold=2.0, data_init=False)
    pair = torch.tensor([[1.0, 2.0], [-3.0, 0.5]])  # [2, D]
    _, _, info = vq(pair.repeat(5, 1)[None])  # [1, 10, 2]: 10 vectors, 2 distinct
    assert len(info["revived"]) == 2
    revived = torch.stack([vq.embedding[event.code] for event in info["revived"]])  # [2, D]
    assert torch.unique(revived, dim=0).shape[0] == 2


def test_revival_at_threshold_two_does_not_reseed_every_code_every_step() -> None:
    # the issue: 48 codes, 512 vectors per step, 100 steps: 4,800 revivals (every code, every
    # step) where vector-quantize-pytorch 1.32 made 63 on the same stream; here 48 (step 1)
    vq = VectorQuantizerEMA(48, 8, decay=0.99, dead_code_threshold=2.0, data_init=False)
    revivals = 0
    for z in _clustered_stream(100, 512, 8, 16, seed=1):
        _, _, info = vq(z)
        revivals += len(info["revived"])
    assert 48 <= revivals <= 2 * 48


def test_the_learned_codebook_protects_revived_codes_too() -> None:
    vq = VectorQuantizer(8, 2, dead_code_threshold=2.0, data_init=False, usage_decay=0.9)
    generator = torch.Generator().manual_seed(0)
    _, _, info = vq(torch.randn(1, 16, 2, generator=generator))
    first = {event.code for event in info["revived"]}
    assert first and all(float(vq.usage_ema[code]) >= 2.0 for code in first)
    _, _, info = vq(torch.randn(1, 16, 2, generator=generator))
    assert not first & {event.code for event in info["revived"]}


def test_data_init_draws_distinct_vectors_without_replacement() -> None:
    def distinct(codes: torch.Tensor) -> int:
        return int(torch.unique(codes.round(decimals=4), dim=0).shape[0])

    vq = VectorQuantizerEMA(8, 2)
    z = torch.randn(1, 8, 2, generator=torch.Generator().manual_seed(0))  # 8 vectors, 8 codes
    vq(z)  # initialises, then one EMA step (which leaves a code alone with its vector in place)
    nearest = torch.cdist(z.reshape(-1, 2), vq.embedding).min(dim=1).values  # [M]
    assert float(nearest.max()) < 1e-5 and distinct(vq.embedding) == 8
    # fewer distinct vectors than codes: every distinct vector is a code, then repeats
    vq = VectorQuantizerEMA(8, 2)
    three = torch.tensor([[1.0, 2.0], [-3.0, 0.5], [0.0, 4.0]])  # [3, D]
    vq(three.repeat(4, 1)[None])  # [1, 12, 2]: 12 vectors, 3 distinct
    assert distinct(vq.embedding) == 3
