"""BCL ("bidirectional competitive learning"): gradient gating plus a SOM force on one `nn.Linear`.

Every feature (row of the layer's weight) competes with its `k` nearest neighbours (cosine
similarity of weight rows) for each image. Winners learn by gradient (the output gradient is
masked by `grad_mask`); losers are pulled toward images nobody serves well by an in-place SOM step
`W += som_delta`, applied during the backward pass. `docs/bcl.md` and the project spec number the
steps 1–16; the comments below use the same numbers and names.

`competition()` and `nearest_neighbors()` are pure functions, so a run without BCL (the `control`
condition) can compute the same competition tensors, e.g. comparable win rates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

EPS = 1e-8  # ε of the spec: keeps every division finite when a sum is zero

# The tensors of steps 1–14, computed by the forward hook (names are the StepTensorKeys).
FORWARD_KEYS: tuple[str, ...] = (
    "strength",
    "neighbors",
    "rank_score",
    "image_coverage",
    "feature_novelty",
    "local_coverage",
    "local_novelty",
    "win_rate",
    "in_nbr",
    "effective_win",
    "gradient_weight",
    "contender_weight",
    "attraction_weight",
    "som_weight_d",
    "grad_mask",
    "image_need",
    "local_target",
    "global_target",
    "som_targets",
)
# The tensors of steps 15–16, added by the backward hook.
BACKWARD_KEYS: tuple[str, ...] = ("som_delta", "grad_raw", "grad_masked")
METRIC_KEYS: tuple[str, ...] = FORWARD_KEYS + BACKWARD_KEYS
# The [D] diagnostics of `BCL.get_step_metrics()`.
STEP_METRIC_KEYS: tuple[str, ...] = (
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


@dataclass(frozen=True)
class BCLConfig:
    """BCL's hyper-parameters (see `docs/bcl.md`)."""

    # 8 of 64 features: a neighbourhood small enough to be local, large enough that a feature
    # must beat several similar rivals to count as a winner.
    neighborhood_k: int = 8
    # T = 5 turns a strength margin of ~0.5 into a clear win (σ(2.5) ≈ 0.92) while a tie stays
    # at 0.5, so the competition is sharp but still differentiable in the margin.
    temperature: float = 5.0
    # η = 0.005: the `bcl-med` condition; the SOM pull moves a loser 0.5% of the way to its
    # target per step, slow next to Adam at lr 1e-3 on the winners.
    som_lr: float = 0.005
    # Cosine top-k over D×D rows is the only O(D²·pixels) step; weights drift slowly, so
    # refreshing the neighbourhoods every 50 hooked passes costs little and keeps them current.
    recompute_every: int = 50

    def __post_init__(self) -> None:
        if self.neighborhood_k < 1:
            raise ValueError(f"neighborhood_k must be >= 1, got {self.neighborhood_k!r}")
        if not self.temperature > 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature!r}")
        if not self.som_lr >= 0:
            raise ValueError(f"som_lr must be >= 0, got {self.som_lr!r}")
        if self.recompute_every < 1:
            raise ValueError(f"recompute_every must be >= 1, got {self.recompute_every!r}")


# --- the pure maths (steps 2–14) ---------------------------------------------------------------


def nearest_neighbors(weight: torch.Tensor, k: int) -> torch.Tensor:
    """Step 2: for each row of `weight` [D, P], the `k` other rows of highest cosine similarity,
    most similar first — int64 [D, k]."""
    rows = torch.nn.functional.normalize(weight.detach(), dim=1)  # [D, P]
    similarity = rows @ rows.T  # [D, D]
    similarity.fill_diagonal_(float("-inf"))  # a feature is not its own neighbour
    return similarity.topk(k, dim=1).indices  # [D, k]


def normalize_columns(weights: torch.Tensor) -> torch.Tensor:
    """Steps 12–13: P̂_bf = P_bf / (Σ_b P_bf + ε), so every non-zero column sums to 1."""
    return weights / (weights.sum(dim=0) + EPS)  # [B, D]


def competition(
    x: torch.Tensor, a: torch.Tensor, neighbors: torch.Tensor, temperature: float
) -> dict[str, torch.Tensor]:
    """Steps 1 and 3–14 for images `x` [B, P] whose layer pre-activation is `a` [B, D], given the
    neighbour table [D, k]. Returns the tensors under their `FORWARD_KEYS` names (`neighbors`
    included). Call it under `torch.no_grad()` or with detached inputs."""
    batch = a.shape[0]
    # 1. strength and 3. rank score: does f beat its strongest neighbour on image b?
    strength = a.abs()  # [B, D]
    rival = strength[:, neighbors].amax(dim=2)  # [B, D]
    rank_score = torch.sigmoid(temperature * (strength - rival))  # [B, D]
    # 4.–7. coverage, novelty, win rate
    image_coverage = rank_score.sum(dim=1)  # [B]
    wins = rank_score.sum(dim=0)  # [D]
    feature_novelty = (rank_score / (image_coverage[:, None] + EPS)).sum(dim=0) / (wins + EPS)
    local_coverage = rank_score[:, neighbors].sum(dim=2)  # [B, D]
    local_novelty = 1.0 / (local_coverage + 1.0)  # [B, D]
    win_rate = wins / batch  # [D]
    # 8. in_nbr: f is a neighbour of image b's overall winner (never the winner itself)
    winner = rank_score.argmax(dim=1)  # [B]
    in_nbr = torch.zeros_like(rank_score).scatter_(1, neighbors[winner], 1.0)  # [B, D]
    # 9. blending weights, summing to 1 per feature
    effective_win = win_rate * feature_novelty  # [D]
    contender_weight = (1.0 - effective_win) * win_rate  # [D]
    attraction_weight = (1.0 - effective_win) * (1.0 - win_rate)  # [D]
    som_weight_d = 1.0 - effective_win  # [D]
    # 10.–11. gradient mask and image need
    grad_mask = rank_score * (feature_novelty * effective_win)  # [B, D]
    image_need = 1.0 / (image_coverage + 1.0)  # [B]
    # 12. local target: images a contender's neighbourhood wins but it does not
    local_weights = (
        rank_score * local_novelty * in_nbr * ((1.0 - feature_novelty) * contender_weight)
    )  # [B, D]
    local_target = normalize_columns(local_weights).T @ x  # [D, P]
    # 13. global target: images the feature loses, weighted by how uncovered they are
    global_weights = (1.0 - rank_score) * image_need[:, None] * attraction_weight  # [B, D]
    global_target = normalize_columns(global_weights).T @ x  # [D, P]
    # 14. SOM target: the two targets blended by contender vs attraction weight
    blend = (contender_weight + attraction_weight + EPS)[:, None]  # [D, 1]
    som_targets = (
        contender_weight[:, None] * local_target + attraction_weight[:, None] * global_target
    ) / blend  # [D, P]
    return {
        "strength": strength,
        "neighbors": neighbors,
        "rank_score": rank_score,
        "image_coverage": image_coverage,
        "feature_novelty": feature_novelty,
        "local_coverage": local_coverage,
        "local_novelty": local_novelty,
        "win_rate": win_rate,
        "in_nbr": in_nbr,
        "effective_win": effective_win,
        "gradient_weight": effective_win,
        "contender_weight": contender_weight,
        "attraction_weight": attraction_weight,
        "som_weight_d": som_weight_d,
        "grad_mask": grad_mask,
        "image_need": image_need,
        "local_target": local_target,
        "global_target": global_target,
        "som_targets": som_targets,
    }


# --- the hooks ---------------------------------------------------------------------------------


class BCL:
    """BCL on one `nn.Linear`: a forward hook (steps 1–14, only when grad is enabled) and, per
    hooked pass, hooks on that pass's autograd graph (steps 15–16).

    After each training step `last_metrics` holds the 22 tensors of `METRIC_KEYS` (detached, on
    the layer's device); a hooked forward replaces the dict, so nothing in it is ever left over
    from an earlier step. `neighbors` and `passes` (hooked forward passes so far) persist.
    Use `attach_bcl()`; `detach()` is idempotent and the object is a context manager.
    """

    def __init__(self, layer: nn.Linear, config: BCLConfig | None = None) -> None:
        if not isinstance(layer, nn.Linear):
            raise TypeError(f"BCL attaches to an nn.Linear, got {type(layer).__name__}")
        self.config = config if config is not None else BCLConfig()
        if self.config.neighborhood_k >= layer.out_features:
            raise ValueError(
                f"neighborhood_k must be in 1..{layer.out_features - 1} for a layer with "
                f"{layer.out_features} features, got {self.config.neighborhood_k}"
            )
        self.layer = layer
        self.neighbors: torch.Tensor | None = None  # [D, k], refreshed every recompute_every
        self.passes = 0  # hooked forward passes so far
        self.last_metrics: dict[str, torch.Tensor] = {}
        self._handles: list[RemovableHandle] = []
        # Bumped by every attach and detach: a graph's backward hooks act only while the
        # attachment that built the graph is still the current one.
        self._attachment = 0

    # -- attach / detach --

    @property
    def attached(self) -> bool:
        """Whether the forward hook is registered."""
        return bool(self._handles)

    def attach(self) -> BCL:
        """Register the forward hook (a no-op when attached already); returns `self`."""
        if not self._handles:
            self._handles.append(self.layer.register_forward_hook(self._forward_hook))
            self._attachment += 1
        return self

    def detach(self) -> None:
        """Remove every hook. Idempotent. A graph built before the detach runs its backward
        unmasked and without SOM step, exactly as if BCL had never been attached."""
        if not self._handles:
            return
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self._attachment += 1

    def __enter__(self) -> BCL:
        return self.attach()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.detach()

    # -- forward: steps 1–14 --

    def _forward_hook(
        self, module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor
    ) -> None:
        # Only passes that can have a backward count: eval / no_grad / inference_mode passes
        # neither touch the state nor the metrics.
        if not (torch.is_grad_enabled() and output.requires_grad):
            return
        x = inputs[0]
        if x.dim() != 2:
            raise ValueError(
                f"BCL expects the layer input as [B, {self.layer.in_features}], "
                f"got shape {tuple(x.shape)}"
            )
        x = x.detach()
        with torch.no_grad():
            # 2. neighbours on hooked passes 0, recompute_every, 2 * recompute_every, …
            if self.neighbors is None or self.passes % self.config.recompute_every == 0:
                self.neighbors = nearest_neighbors(self.layer.weight, self.config.neighborhood_k)
            metrics = competition(x, output.detach(), self.neighbors, self.config.temperature)
        self.passes += 1
        self.last_metrics = metrics
        # For a 2-D input, `output.grad_fn` is the addmm/mm node that computes the gradients of
        # weight, bias and input from the output gradient. A tensor hook on `output` runs just
        # before that node (16: mask G), a post-hook on the node just after it (15: SOM step).
        output.register_hook(self._mask_gradient(metrics, x))
        if output.grad_fn is not None:
            output.grad_fn.register_hook(self._som_step(metrics))

    # -- backward: steps 15–16 --

    def _mask_gradient(
        self, metrics: dict[str, torch.Tensor], x: torch.Tensor
    ) -> Callable[[torch.Tensor], torch.Tensor | None]:
        mask = metrics["grad_mask"]  # [B, D]
        attachment = self._attachment

        def hook(grad: torch.Tensor) -> torch.Tensor | None:
            if attachment != self._attachment:  # detached since this graph was built
                return None
            masked = grad * mask  # [B, D]
            with torch.no_grad():
                metrics["grad_raw"] = grad.detach().T @ x  # [D, P]
                metrics["grad_masked"] = masked.detach().T @ x  # [D, P]
            return masked

        return hook

    def _som_step(self, metrics: dict[str, torch.Tensor]) -> Callable[[object, object], None]:
        # Applied after the addmm/mm node has used W, so the input gradient is (G ⊙ M) W with the
        # W of the forward pass; the weight gradient (G ⊙ M)ᵀ X does not depend on W.
        attachment = self._attachment

        def hook(grad_inputs: object, grad_outputs: object) -> None:
            if attachment != self._attachment:
                return
            weight = self.layer.weight
            with torch.no_grad():
                som_delta = (
                    self.config.som_lr
                    * metrics["som_weight_d"][:, None]
                    * (metrics["som_targets"] - weight)
                )  # [D, P]
                weight.add_(som_delta)  # bias untouched
            metrics["som_delta"] = som_delta

        return hook

    # -- state --

    def state_dict(self) -> dict[str, Any]:
        """What carries to the next step: the hooked passes so far (when the neighbours are
        refreshed) and the current neighbour table."""
        return {"passes": self.passes, "neighbors": self.neighbors}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.passes = int(state["passes"])
        self.neighbors = state["neighbors"]

    # -- diagnostics --

    def get_step_metrics(self) -> dict[str, torch.Tensor]:
        """The [D] per-feature diagnostics of the last training step (forward and backward)."""
        missing = [key for key in BACKWARD_KEYS if key not in self.last_metrics]
        if not self.last_metrics or missing:
            raise RuntimeError(
                "BCL.get_step_metrics() needs a hooked forward followed by its backward; "
                f"missing: {', '.join(missing) if self.last_metrics else 'everything'}"
            )
        metrics = self.last_metrics
        step = {key: metrics[key] for key in STEP_METRIC_KEYS if key in metrics}
        step["grad_magnitude"] = torch.linalg.vector_norm(metrics["grad_masked"], dim=1)  # [D]
        step["som_magnitude"] = torch.linalg.vector_norm(metrics["som_delta"], dim=1)  # [D]
        return step


def attach_bcl(model: nn.Module, layer_name: str, config: BCLConfig | None = None) -> BCL:
    """Attach BCL to the `nn.Linear` called `layer_name` in `model` (e.g. `"encoder.0"`)."""
    try:
        layer = model.get_submodule(layer_name)
    except AttributeError:
        names = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
        raise ValueError(
            f"no layer {layer_name!r} in {type(model).__name__}; its Linear layers: "
            f"{', '.join(names) or 'none'}"
        ) from None
    if not isinstance(layer, nn.Linear):
        raise TypeError(f"layer {layer_name!r} is a {type(layer).__name__}, not an nn.Linear")
    return BCL(layer, config).attach()
