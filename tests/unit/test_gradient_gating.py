"""BCL (`acc/gradient_gating.py`) against the spec, `docs/bcl.md`.

The maths is checked against `Reference`, an independent loop-over-scalars implementation of
every formula written from the spec (small case: B=6, D=5, k=2, 9 pixels, float64); the hooks,
the neighbour schedule, detach and the `last_metrics` contract are checked on real models.
"""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path

import pytest
import torch
from torch import nn

from acc.callbacks import LambdaCallback
from acc.data import BatchIterator, MnistData
from acc.gradient_gating import BCL, BCLConfig, attach_bcl, nearest_neighbors
from acc.recipes.bcl.model import LinearAutoencoder
from acc.trainer import StepInfo, Trainer, reconstruction_loss

EPS = 1e-8
B, D, K, PIXELS = 6, 5, 2, 9

# The 22 keys of the issue, spelled out here so the test does not trust the module's own list.
SHAPES = {
    "strength": ("B", "D"),
    "neighbors": ("D", "k"),
    "rank_score": ("B", "D"),
    "image_coverage": ("B",),
    "feature_novelty": ("D",),
    "local_coverage": ("B", "D"),
    "local_novelty": ("B", "D"),
    "win_rate": ("D",),
    "in_nbr": ("B", "D"),
    "effective_win": ("D",),
    "gradient_weight": ("D",),
    "contender_weight": ("D",),
    "attraction_weight": ("D",),
    "som_weight_d": ("D",),
    "grad_mask": ("B", "D"),
    "image_need": ("B",),
    "local_target": ("D", "P"),
    "global_target": ("D", "P"),
    "som_targets": ("D", "P"),
    "som_delta": ("D", "P"),
    "grad_raw": ("D", "P"),
    "grad_masked": ("D", "P"),
}
STEP_METRICS = (
    "win_rate",
    "feature_novelty",
    "effective_win",
    "gradient_weight",
    "contender_weight",
    "attraction_weight",
    "som_weight_d",
    "grad_magnitude",
    "som_magnitude",
)

Matrix = list[list[float]]
Vector = list[float]


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


class Reference:
    """Every formula of bcl.md, one scalar at a time, from plain Python lists."""

    def __init__(
        self, x: Matrix, weight: Matrix, bias: Vector, k: int, temperature: float, som_lr: float
    ) -> None:
        n_b, n_d, n_p = len(x), len(weight), len(x[0])
        self.x, self.weight = x, weight
        # a = x Wᵀ + c, the pre-activation
        a = [
            [sum(x[b][p] * weight[f][p] for p in range(n_p)) + bias[f] for f in range(n_d)]
            for b in range(n_b)
        ]
        self.a = a
        # 1. strength
        s = [[abs(a[b][f]) for f in range(n_d)] for b in range(n_b)]
        # 2. neighbours: the k other rows of highest cosine similarity, most similar first
        norm = [math.sqrt(sum(w * w for w in weight[f])) for f in range(n_d)]
        cos = [
            [
                sum(weight[f][p] * weight[g][p] for p in range(n_p)) / (norm[f] * norm[g])
                for g in range(n_d)
            ]
            for f in range(n_d)
        ]
        nbrs = [
            sorted((g for g in range(n_d) if g != f), key=lambda g, f=f: -cos[f][g])[:k]
            for f in range(n_d)
        ]
        # 3. rank score
        r = [
            [sigmoid(temperature * (s[b][f] - max(s[b][g] for g in nbrs[f]))) for f in range(n_d)]
            for b in range(n_b)
        ]
        # 4. image coverage
        cov = [sum(r[b][f] for f in range(n_d)) for b in range(n_b)]
        # 5. feature novelty
        nov = []
        for f in range(n_d):
            unique = sum(r[b][f] / (cov[b] + EPS) for b in range(n_b))
            total = sum(r[b][f] for b in range(n_b))
            nov.append(unique / (total + EPS))
        # 6. local coverage and novelty
        loc_cov = [[sum(r[b][g] for g in nbrs[f]) for f in range(n_d)] for b in range(n_b)]
        loc_nov = [[1.0 / (loc_cov[b][f] + 1.0) for f in range(n_d)] for b in range(n_b)]
        # 7. win rate
        win = [sum(r[b][f] for b in range(n_b)) / n_b for f in range(n_d)]
        # 8. in_nbr: f is a neighbour of image b's winner (the first maximum, as argmax)
        in_nbr = []
        for b in range(n_b):
            winner = 0
            for g in range(n_d):
                if r[b][g] > r[b][winner]:
                    winner = g
            in_nbr.append([1.0 if f in nbrs[winner] else 0.0 for f in range(n_d)])
        # 9. blending weights
        eff = [win[f] * nov[f] for f in range(n_d)]
        contender = [(1 - eff[f]) * win[f] for f in range(n_d)]
        attraction = [(1 - eff[f]) * (1 - win[f]) for f in range(n_d)]
        som_w = [1 - eff[f] for f in range(n_d)]
        # 10. gradient mask, 11. image need
        mask = [[r[b][f] * nov[f] * eff[f] for f in range(n_d)] for b in range(n_b)]
        need = [1.0 / (cov[b] + 1.0) for b in range(n_b)]
        # 12. local target
        p_w = [
            [
                r[b][f] * loc_nov[b][f] * (1 - nov[f]) * in_nbr[b][f] * contender[f]
                for f in range(n_d)
            ]
            for b in range(n_b)
        ]
        # 13. global target
        q_w = [[(1 - r[b][f]) * need[b] * attraction[f] for f in range(n_d)] for b in range(n_b)]
        self.p_sum = [sum(p_w[b][f] for b in range(n_b)) for f in range(n_d)]
        self.q_sum = [sum(q_w[b][f] for b in range(n_b)) for f in range(n_d)]
        self.p_hat = self._normalise(p_w)
        self.q_hat = self._normalise(q_w)
        local = self._combine(self.p_hat)
        glob = self._combine(self.q_hat)
        # 14. SOM targets
        som_t = [
            [
                (contender[f] * local[f][p] + attraction[f] * glob[f][p])
                / (contender[f] + attraction[f] + EPS)
                for p in range(n_p)
            ]
            for f in range(n_d)
        ]
        self.forward = {
            "strength": s,
            "neighbors": nbrs,
            "rank_score": r,
            "image_coverage": cov,
            "feature_novelty": nov,
            "local_coverage": loc_cov,
            "local_novelty": loc_nov,
            "win_rate": win,
            "in_nbr": in_nbr,
            "effective_win": eff,
            "gradient_weight": eff,
            "contender_weight": contender,
            "attraction_weight": attraction,
            "som_weight_d": som_w,
            "grad_mask": mask,
            "image_need": need,
            "local_target": local,
            "global_target": glob,
            "som_targets": som_t,
        }
        self.som_delta = [
            [som_lr * som_w[f] * (som_t[f][p] - weight[f][p]) for p in range(n_p)]
            for f in range(n_d)
        ]

    @staticmethod
    def _normalise(w: Matrix) -> Matrix:
        n_b, n_d = len(w), len(w[0])
        sums = [sum(w[b][f] for b in range(n_b)) for f in range(n_d)]
        return [[w[b][f] / (sums[f] + EPS) for f in range(n_d)] for b in range(n_b)]

    def _combine(self, weights: Matrix) -> Matrix:
        n_b, n_p = len(self.x), len(self.x[0])
        return [
            [sum(weights[b][f] * self.x[b][p] for b in range(n_b)) for p in range(n_p)]
            for f in range(len(weights[0]))
        ]

    def backward(self, grad: Matrix) -> dict[str, Matrix | Vector]:
        """Steps 15–16 for the output gradient `grad` [B, D]."""
        n_b, n_d, n_p = len(self.x), len(self.weight), len(self.x[0])
        mask = self.forward["grad_mask"]
        masked = [[grad[b][f] * mask[b][f] for f in range(n_d)] for b in range(n_b)]
        return {
            "grad_raw": [
                [sum(grad[b][f] * self.x[b][p] for b in range(n_b)) for p in range(n_p)]
                for f in range(n_d)
            ],
            "grad_masked": [
                [sum(masked[b][f] * self.x[b][p] for b in range(n_b)) for p in range(n_p)]
                for f in range(n_d)
            ],
            "bias_grad": [sum(masked[b][f] for b in range(n_b)) for f in range(n_d)],
            "som_delta": self.som_delta,
        }


def small_case(seed: int) -> tuple[nn.Linear, torch.Tensor, torch.Tensor]:
    """A float64 Linear(9 → 5), images [6, 9] in [0, 1] and a readout R [6, 5]."""
    generator = torch.Generator().manual_seed(seed)
    layer = nn.Linear(PIXELS, D).double()
    with torch.no_grad():
        layer.weight.copy_(torch.randn(D, PIXELS, generator=generator, dtype=torch.float64) * 0.5)
        layer.bias.copy_(torch.randn(D, generator=generator, dtype=torch.float64) * 0.1)
    x = torch.rand(B, PIXELS, generator=generator, dtype=torch.float64)
    readout = torch.randn(B, D, generator=generator, dtype=torch.float64)
    return layer, x, readout


def assert_matches(actual: torch.Tensor, expected: object, name: str) -> None:
    torch.testing.assert_close(
        actual,
        torch.tensor(expected, dtype=actual.dtype),
        rtol=1e-9,
        atol=1e-12,
        msg=lambda text: f"{name}: {text}",
    )


# --- every formula against the loop reference, forward and backward ---------------------------


@pytest.mark.parametrize(("seed", "temperature"), [(0, 5.0), (1, 5.0), (2, 2.5)])
def test_every_formula_matches_the_loop_reference(seed: int, temperature: float) -> None:
    layer, x, readout = small_case(seed)
    som_lr = 0.05
    reference = Reference(
        x.tolist(),
        layer.weight.tolist(),
        layer.bias.tolist(),
        K,
        temperature,
        som_lr,
    )
    weight_before = layer.weight.detach().clone()
    config = BCLConfig(neighborhood_k=K, temperature=temperature, som_lr=som_lr)
    with BCL(layer, config) as bcl:
        a = layer(x)
        # loss = Σ tanh(a) ⊙ R, so the output gradient is G = (1 − tanh²(a)) ⊙ R
        (torch.tanh(a) * readout).sum().backward()
    grad = [
        [(1 - math.tanh(reference.a[b][f]) ** 2) * readout[b, f].item() for f in range(D)]
        for b in range(B)
    ]
    expected_backward = reference.backward(grad)
    metrics = bcl.last_metrics

    assert metrics["neighbors"].tolist() == reference.forward["neighbors"]
    for name, value in reference.forward.items():
        if name != "neighbors":
            assert_matches(metrics[name], value, name)
    for name in ("grad_raw", "grad_masked", "som_delta"):
        assert_matches(metrics[name], expected_backward[name], name)
    # what the optimizer sees: the masked gradient, for the bias too
    assert_matches(layer.weight.grad, expected_backward["grad_masked"], "weight.grad")
    assert_matches(layer.bias.grad, expected_backward["bias_grad"], "bias.grad")
    # 15. W += ΔW in place
    expected_weight = [
        [weight_before[f, p].item() + expected_backward["som_delta"][f][p] for p in range(PIXELS)]
        for f in range(D)
    ]
    assert_matches(layer.weight.detach(), expected_weight, "weight after the SOM step")
    # the [D] diagnostics
    step = bcl.get_step_metrics()
    assert set(step) == set(STEP_METRICS)
    for name in STEP_METRICS[:7]:
        assert_matches(step[name], reference.forward[name], name)
    assert_matches(
        step["grad_magnitude"],
        [math.sqrt(sum(v * v for v in row)) for row in expected_backward["grad_masked"]],
        "grad_magnitude",
    )
    assert_matches(
        step["som_magnitude"],
        [math.sqrt(sum(v * v for v in row)) for row in expected_backward["som_delta"]],
        "som_magnitude",
    )


def test_the_input_gradient_flows_through_the_mask_with_the_forward_weight() -> None:
    """A layer deeper in a network passes (G ⊙ M) W on, with W as it was before the SOM step."""
    layer, x, readout = small_case(3)
    x = x.clone().requires_grad_(True)
    weight_before = layer.weight.detach().clone()
    with BCL(layer, BCLConfig(neighborhood_k=K, som_lr=0.5)) as bcl:
        a = layer(x)
        (a * readout).sum().backward()
    expected = (readout * bcl.last_metrics["grad_mask"]) @ weight_before  # [B, P]
    torch.testing.assert_close(x.grad, expected, rtol=1e-12, atol=1e-12)
    assert not torch.equal(layer.weight.detach(), weight_before)  # the SOM step did move W


def test_nearest_neighbors_excludes_self_and_sorts_by_cosine() -> None:
    weight = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.1, 1.0], [-1.0, 0.0]])
    assert nearest_neighbors(weight, 2).tolist() == [[1, 2], [0, 2], [1, 0], [2, 1]]


# --- the properties of bcl.md ------------------------------------------------------------------


def test_blending_weights_sum_to_one_and_win_rate_and_coverage_are_sums(
    mnist: MnistData,
) -> None:
    model, trainer = autoencoder_trainer(mnist, batch_size=128)
    with attach_bcl(model, "encoder.0") as bcl:
        trainer.train(3)
        m = bcl.last_metrics
    total = m["gradient_weight"] + m["contender_weight"] + m["attraction_weight"]
    torch.testing.assert_close(total, torch.ones_like(total))
    torch.testing.assert_close(m["win_rate"], m["rank_score"].mean(dim=0))
    torch.testing.assert_close(m["image_coverage"], m["rank_score"].sum(dim=1))
    torch.testing.assert_close(m["som_weight_d"], 1 - m["effective_win"])
    # targets are convex combinations of batch images, so they stay inside the pixel range
    for name in ("local_target", "global_target", "som_targets"):
        assert m[name].min() >= -1e-6 and m[name].max() <= 1 + 1e-6, name


@pytest.mark.parametrize("seed", [0, 1])
def test_normalised_target_weights_sum_to_one_per_feature(seed: int) -> None:
    """With the identity as the batch (image b = pixel b), target row f *is* column f of P̂ / Q̂."""
    generator = torch.Generator().manual_seed(seed)
    layer = nn.Linear(PIXELS, D).double()
    with torch.no_grad():
        layer.weight.copy_(torch.randn(D, PIXELS, generator=generator, dtype=torch.float64))
    images = torch.eye(PIXELS, dtype=torch.float64)
    reference = Reference(images.tolist(), layer.weight.tolist(), layer.bias.tolist(), K, 5.0, 0.0)
    with BCL(layer, BCLConfig(neighborhood_k=K)) as bcl:
        layer(images).sum().backward()
    targets = (
        ("local_target", reference.p_hat, reference.p_sum),
        ("global_target", reference.q_hat, reference.q_sum),
    )
    assert all(total > 0 for total in reference.q_sum)  # every global target is convex
    for name, hat, raw_sums in targets:
        target = bcl.last_metrics[name]  # [D, B]
        assert_matches(target, [list(column) for column in zip(*hat, strict=True)], name)
        assert target.min() >= 0
        sums = target.sum(dim=1)  # [D]: 0 for a feature with no weight on any image, else 1
        nonzero = torch.tensor(raw_sums) > 0
        assert nonzero.any(), name
        assert torch.equal(sums[~nonzero], torch.zeros_like(sums[~nonzero])), name
        # exactly 1 up to the ε of the normalisation: Σ_b P̂_bf = S / (S + ε) for S = Σ_b P_bf
        slack = EPS / torch.tensor(raw_sums, dtype=torch.float64)[nonzero] + 1e-12
        assert ((sums[nonzero] - 1).abs() <= slack).all(), name


def test_no_som_and_a_mask_of_ones_is_a_plain_step(
    mnist: MnistData, monkeypatch: pytest.MonkeyPatch
) -> None:
    import acc.gradient_gating as gating

    original = gating.competition

    def mask_of_ones(*args: object, **kwargs: object) -> dict[str, torch.Tensor]:
        tensors = original(*args, **kwargs)  # type: ignore[arg-type]
        tensors["grad_mask"] = torch.ones_like(tensors["grad_mask"])
        return tensors

    monkeypatch.setattr(gating, "competition", mask_of_ones)
    model, trainer = autoencoder_trainer(mnist, batch_size=64)
    plain_model, plain_trainer = autoencoder_trainer(mnist, batch_size=64)
    plain_model.load_state_dict(model.state_dict())
    with attach_bcl(model, "encoder.0", BCLConfig(som_lr=0.0)) as bcl:
        losses = [r.loss for r in trainer.train(3)]
        assert bcl.passes == 3
    plain_losses = [r.loss for r in plain_trainer.train(3)]
    assert losses == plain_losses
    for (name, p), q in zip(model.named_parameters(), plain_model.parameters(), strict=True):
        assert torch.equal(p, q), name


# --- last_metrics and get_step_metrics after real training steps ------------------------------


def autoencoder_trainer(
    mnist: MnistData, batch_size: int, device: str = "cpu"
) -> tuple[LinearAutoencoder, Trainer]:
    torch.manual_seed(0)
    model = LinearAutoencoder(784, 64).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batches = BatchIterator(mnist.train, batch_size=batch_size, seed=0)
    return model, Trainer(model, optimizer, batches, reconstruction_loss("l1"), device)


DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA")),
]


@pytest.mark.parametrize("device", DEVICES)
def test_last_metrics_holds_all_keys_fresh_detached_on_the_device(
    mnist: MnistData, device: str
) -> None:
    batch_size = 32
    model, trainer = autoencoder_trainer(mnist, batch_size, device)
    layer = model.encoder[0]
    sizes = {"B": batch_size, "D": 64, "k": 8, "P": 784}
    seen: list[tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]] = []
    forward_weight: list[torch.Tensor] = []
    layer.register_forward_hook(lambda *_: forward_weight.append(layer.weight.detach().clone()))
    bcl = attach_bcl(model, "encoder.0")

    def check(info: StepInfo) -> None:
        metrics = bcl.last_metrics
        assert set(metrics) == set(SHAPES)
        for name, symbols in SHAPES.items():
            tensor = metrics[name]
            assert tuple(tensor.shape) == tuple(sizes[s] for s in symbols), name
            assert not tensor.requires_grad and tensor.grad_fn is None, name
            assert tensor.device == layer.weight.device, name
        assert metrics["neighbors"].dtype == torch.int64
        if seen:  # nothing carried over from the previous step
            previous, previous_tensors = seen[-1]
            assert metrics is not previous
            for name in SHAPES:
                if name != "neighbors":  # the same table until the next recompute
                    assert metrics[name] is not previous_tensors[name], name
        seen.append((metrics, dict(metrics)))
        # grad_masked is exactly the gradient Adam is about to use, som_delta what moved W
        torch.testing.assert_close(metrics["grad_masked"], layer.weight.grad)
        torch.testing.assert_close(
            metrics["som_delta"], layer.weight.detach() - forward_weight[-1], rtol=0, atol=1e-6
        )
        step = bcl.get_step_metrics()
        assert set(step) == set(STEP_METRICS)
        for name, tensor in step.items():
            assert tensor.shape == (64,) and tensor.device == layer.weight.device, name
        torch.testing.assert_close(step["grad_magnitude"], layer.weight.grad.norm(dim=1))
        torch.testing.assert_close(step["som_magnitude"], metrics["som_delta"].norm(dim=1))

    trainer.train(3, [LambdaCallback(on_after_backward=check)])
    assert len(seen) == 3
    # a forward without its backward: the backward keys are missing, not stale
    model(next(trainer.batches).images.to(device))
    assert set(bcl.last_metrics) == set(SHAPES) - {"som_delta", "grad_raw", "grad_masked"}
    with pytest.raises(RuntimeError, match="som_delta"):
        bcl.get_step_metrics()
    bcl.detach()


def test_get_step_metrics_before_any_step_says_what_is_missing() -> None:
    layer, _, _ = small_case(0)
    with BCL(layer, BCLConfig(neighborhood_k=K)) as bcl, pytest.raises(RuntimeError):
        bcl.get_step_metrics()


# --- the neighbour schedule and no-grad passes ------------------------------------------------


def test_neighbours_change_only_on_passes_0_50_100_and_eval_passes_do_nothing() -> None:
    generator = torch.Generator().manual_seed(0)
    layer = nn.Linear(PIXELS, D).double()
    bcl = BCL(layer, BCLConfig(neighborhood_k=K)).attach()
    table = None
    recomputed, would_differ = [], 0
    for hooked_pass in range(121):
        with torch.no_grad():  # new random weights, so a recompute would show
            layer.weight.copy_(torch.randn(D, PIXELS, generator=generator, dtype=torch.float64))
        fresh = nearest_neighbors(layer.weight, K)
        x = torch.rand(B, PIXELS, generator=generator, dtype=torch.float64)
        layer(x).square().sum().backward()
        assert bcl.passes == hooked_pass + 1
        neighbors = bcl.last_metrics["neighbors"]
        if table is None or not torch.equal(neighbors, table):
            recomputed.append(hooked_pass)
        if hooked_pass % 50 == 0:
            assert torch.equal(neighbors, fresh)
        else:
            assert torch.equal(neighbors, table)
            would_differ += int(not torch.equal(fresh, table))
        table = neighbors

        # eval passes in between: no-grad, inference mode, eval mode under no-grad
        metrics, snapshot = bcl.last_metrics, dict(bcl.last_metrics)
        weight = layer.weight.detach().clone()
        with torch.no_grad():
            layer(x)
        with torch.inference_mode():
            layer(x)
        layer.eval()
        with torch.no_grad():
            layer(x)
        layer.train()
        assert bcl.passes == hooked_pass + 1
        assert bcl.last_metrics is metrics
        assert all(bcl.last_metrics[key] is value for key, value in snapshot.items())
        assert torch.equal(layer.weight, weight)
        assert torch.equal(bcl.neighbors, table)
    assert recomputed == [0, 50, 100]
    assert would_differ > 60  # the stale tables really were stale
    bcl.detach()


# --- attach, detach, context manager ----------------------------------------------------------


def all_hooks(model: nn.Module) -> int:
    return sum(
        len(module._forward_hooks)
        + len(module._forward_pre_hooks)
        + len(module._backward_hooks)
        + len(module._backward_pre_hooks)
        for module in model.modules()
    )


def test_detach_leaves_the_model_as_if_it_never_had_bcl(mnist: MnistData) -> None:
    model, trainer = autoencoder_trainer(mnist, batch_size=32)
    never = copy.deepcopy(model)  # a copy taken before BCL ever touched the model
    bcl = attach_bcl(model, "encoder.0")
    assert all_hooks(model) == 1
    trainer.train(2)  # BCL moves the weights; the comparison copies them over below
    bcl.detach()
    assert all_hooks(model) == 0 and not bcl.attached
    never.load_state_dict(model.state_dict())
    model.zero_grad(set_to_none=True)  # the training steps' gradients are not part of the check
    images = next(trainer.batches).images
    outputs = model(images)
    never_outputs = never(images)
    for ours, theirs in zip(outputs, never_outputs, strict=True):
        assert torch.equal(ours, theirs)
    outputs[1].sum().backward()
    never_outputs[1].sum().backward()
    for (name, p), q in zip(model.named_parameters(), never.parameters(), strict=True):
        assert torch.equal(p.grad, q.grad), name
        assert torch.equal(p, q), name  # no SOM step either
    assert bcl.passes == 2  # the detached BCL did not count the pass


def test_a_graph_built_before_detach_runs_its_backward_plain() -> None:
    layer, x, readout = small_case(4)
    plain = copy.deepcopy(layer)
    bcl = BCL(layer, BCLConfig(neighborhood_k=K, som_lr=0.5)).attach()
    a = layer(x)
    bcl.detach()
    (a * readout).sum().backward()
    (plain(x) * readout).sum().backward()
    assert torch.equal(layer.weight.grad, plain.weight.grad)
    assert torch.equal(layer.weight, plain.weight)
    assert "grad_masked" not in bcl.last_metrics


def test_detach_is_idempotent_and_bcl_is_a_context_manager() -> None:
    model = nn.Sequential(nn.Linear(PIXELS, D), nn.ReLU())
    with attach_bcl(model, "0", BCLConfig(neighborhood_k=K)) as bcl:
        assert bcl.attached and all_hooks(model) == 1
        bcl.attach()  # attaching twice registers nothing more
        assert all_hooks(model) == 1
    assert not bcl.attached and all_hooks(model) == 0
    bcl.detach()
    bcl.detach()
    assert all_hooks(model) == 0
    with bcl:  # re-usable
        model(torch.rand(B, PIXELS, requires_grad=True))
        assert bcl.passes == 1
    assert all_hooks(model) == 0


def test_attach_bcl_names_what_is_wrong() -> None:
    model = LinearAutoencoder(784, 64)
    with pytest.raises(ValueError, match=r"'encoder\.9'.*encoder\.0, decoder\.0"):
        attach_bcl(model, "encoder.9")
    with pytest.raises(TypeError, match="ReLU"):
        attach_bcl(model, "encoder.1")
    with pytest.raises(ValueError, match=r"neighborhood_k must be in 1\.\.63.*64"):
        attach_bcl(model, "encoder.0", BCLConfig(neighborhood_k=64))
    assert all_hooks(model) == 0


# --- the config -------------------------------------------------------------------------------


def test_config_defaults_are_the_spec_and_frozen() -> None:
    config = BCLConfig()
    assert (config.neighborhood_k, config.temperature, config.som_lr, config.recompute_every) == (
        8,
        5.0,
        0.005,
        50,
    )
    with pytest.raises(AttributeError):
        config.som_lr = 0.1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "value"),
    [("neighborhood_k", 0), ("temperature", 0.0), ("som_lr", -1.0), ("recompute_every", 0)],
)
def test_config_rejects_bad_values_naming_them(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=rf"{field} must be .*got {value!r}"):
        BCLConfig(**{field: value})


# --- the user doc's example runs --------------------------------------------------------------


def test_the_example_in_docs_bcl_md_runs(mnist: MnistData, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = Path(__file__).parents[2] / "docs" / "bcl.md"
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(), flags=re.DOTALL)
    assert blocks, "docs/bcl.md lost its Python example"
    monkeypatch.setattr("acc.data.load_mnist", lambda *args, **kwargs: mnist)
    for block in blocks:
        exec(compile(block, str(doc), "exec"), {})
