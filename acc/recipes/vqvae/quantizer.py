"""Vector quantizers: EMA codebook, learned codebook, and residual stacks of either.

Contract (docs/codebook.md): input is channel-first of any spatial shape (`[B, D, H, T]`,
`[B, D, T]`, …) or `[B, N, D]`; `forward` returns `(z_q, losses, info)` with
`losses = {"commitment", "codebook", "vq"}` and `info` holding `indices`, `perplexity`, `usage`
(and `counts`, `quantization_error`, the hard `quantized` values and any `revived` codes). `z_q`
passes gradients straight through to the encoder, and the commitment loss β·‖z − sg(q)‖² keeps its
gradient to the encoder (public VQ code that detaches it trains an encoder that ignores it).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

Layout = Literal["auto", "channels_first", "channels_last"]
QuantizerKind = Literal["ema", "learned"]


@dataclass(frozen=True)
class Revival:
    """A dead code re-seeded from a batch vector (the monitor adds the step and the level)."""

    code: int
    old_count: float  # the code's usage count (EMA) when it was found dead
    source: int  # index of the batch vector it was re-seeded from


def to_vectors(
    z: torch.Tensor, code_dim: int, layout: Layout = "auto"
) -> tuple[torch.Tensor, Callable[[torch.Tensor], torch.Tensor], torch.Size]:
    """Flatten `z` to `[M, code_dim]` vectors; returns them, a function putting `[M, code_dim]`
    values back into `z`'s layout, and the shape of the per-vector index tensor (`[B, *S]`)."""
    if z.dim() < 2:
        raise ValueError(
            f"expected [B, {code_dim}, ...] or [B, N, {code_dim}], got {list(z.shape)}"
        )
    if layout == "auto":
        if z.dim() == 3 and z.shape[-1] == code_dim:
            layout = "channels_last"
        elif z.shape[1] == code_dim:
            layout = "channels_first"
        elif z.shape[-1] == code_dim:
            layout = "channels_last"
        else:
            raise ValueError(
                f"no axis of size code_dim={code_dim} in shape {list(z.shape)}: expected "
                f"channel-first [B, {code_dim}, ...] or [B, N, {code_dim}]"
            )
    moved = z.movedim(1, -1) if layout == "channels_first" else z
    if moved.shape[-1] != code_dim:
        raise ValueError(f"layout {layout} of shape {list(z.shape)} has no code axis of {code_dim}")
    index_shape = moved.shape[:-1]
    flat = moved.reshape(-1, code_dim)

    def restore(values: torch.Tensor) -> torch.Tensor:
        shaped = values.reshape(moved.shape)
        return shaped.movedim(-1, 1) if layout == "channels_first" else shaped

    return flat, restore, index_shape


def perplexity_of(counts: torch.Tensor) -> torch.Tensor:
    """exp(−Σ p log p) of a count vector (natural log, 0·log 0 = 0)."""
    total = counts.sum()
    if total <= 0:
        return torch.zeros((), device=counts.device)
    p = counts.float() / total
    return torch.exp(-(torch.where(p > 0, p * p.log(), torch.zeros_like(p))).sum())


def nearest_codes(flat: torch.Tensor, codebook: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Index of the nearest code of each vector and the squared distance to it."""
    distances = (
        flat.pow(2).sum(1, keepdim=True) - 2 * flat @ codebook.T + codebook.pow(2).sum(1)[None, :]
    )  # [M, K]
    best, indices = distances.min(dim=1)
    return indices, best.clamp_min(0)


class _Quantizer(nn.Module):
    """What the EMA and the learned quantizer share: validation, nearest codes, revival, info."""

    def __init__(
        self,
        num_codes: int,
        code_dim: int,
        commitment_cost: float,
        dead_code_threshold: float | None,
        layout: Layout,
        seed: int,
        data_init: bool = True,
    ) -> None:
        super().__init__()
        if num_codes < 2:
            raise ValueError(f"num_codes must be >= 2, got {num_codes}")
        if code_dim < 1:
            raise ValueError(f"code_dim must be >= 1, got {code_dim}")
        if commitment_cost < 0:
            raise ValueError(f"commitment_cost must be >= 0, got {commitment_cost}")
        if dead_code_threshold is not None and dead_code_threshold <= 0:
            raise ValueError(f"dead_code_threshold must be > 0 or None, got {dead_code_threshold}")
        self.num_codes = num_codes
        self.code_dim = code_dim
        self.commitment_cost = commitment_cost
        self.dead_code_threshold = dead_code_threshold
        self.layout: Layout = layout
        self.data_init = data_init
        self.initialized: torch.Tensor
        self.register_buffer("initialized", torch.tensor(not data_init))
        # Revival draws batch vectors from its own generator: seeded, and untouched by other code.
        self._generator = torch.Generator().manual_seed(seed)

    @property
    def generator(self) -> torch.Generator:
        """The seeded generator of data init and revival (its state carries from step to step)."""
        return self._generator

    @property
    def codebook(self) -> torch.Tensor:
        raise NotImplementedError

    def _usage_counts(self) -> torch.Tensor:
        """The running per-code count that decides which codes are dead."""
        raise NotImplementedError

    def _decay(self) -> float:
        """The decay of the running count that `_usage_counts` returns."""
        raise NotImplementedError

    def _fresh_count(self) -> float:
        """The count a code seeded from a batch vector (at initialisation or revival) starts with.

        At least 1 (one vector's worth), and high enough that, never used, it stays at or above
        `dead_code_threshold` for P = ⌈1/(1 − decay)⌉ steps — the EMA's time constant, about as
        long as the count needs to measure the code's real usage. A count reset to 1 under a
        threshold >= 1 would be dead again after one step and re-seeded on every step. The half
        step past P keeps step P clear of the threshold despite rounding; at step P + 1 an unused
        code is dead.
        """
        if self.dead_code_threshold is None:
            return 1.0
        decay = self._decay()
        return max(1.0, self.dead_code_threshold * decay ** -(self._protected_steps() + 0.5))

    def _protected_steps(self) -> int:
        """P = ⌈1/(1 − decay)⌉: how many steps a freshly seeded, unused code stays alive."""
        # 1/(1 − 0.99) is 100.00000000000009 in floating point: round before the ceiling
        return math.ceil(round(1 / (1 - self._decay()), 6))

    def _reseed(self, codes: torch.Tensor, vectors: torch.Tensor) -> None:
        """Put `vectors` (`[R, D]`) at `codes` (`[R]`) with the fresh count."""
        raise NotImplementedError

    def _distinct_rows(self, flat: torch.Tensor) -> torch.Tensor:
        """Indices of the first occurrence of each distinct vector of `flat` (`[U]`, sorted): a
        code seeded twice from equal vectors would be a duplicate whatever their index."""
        # Equal rows have equal keys; distinct rows share one only by an exact float64 tie of
        # the projection, which would merely drop a candidate. Unique on the 1-D keys is ~20×
        # faster than torch.unique(dim=0) on [M, D].
        weights = torch.arange(1, flat.shape[1] + 1, device=flat.device, dtype=torch.float64)
        keys = flat.to(torch.float64) @ weights.sqrt()  # [M]
        distinct, inverse = torch.unique(keys, return_inverse=True)  # [U], [M]
        positions = torch.arange(flat.shape[0], device=flat.device)  # [M]
        first = torch.full((distinct.shape[0],), flat.shape[0], device=flat.device)  # [U]
        first.scatter_reduce_(0, inverse, positions, reduce="amin")
        return first.sort().values.cpu()  # [U]

    @torch.no_grad()
    def _init_from_data(self, flat: torch.Tensor) -> None:
        """Start every code at a random vector of the first training batch: codes drawn far from
        the encoder's outputs would leave all but the nearest one unused from step 1. Distinct
        vectors are drawn without replacement; only a batch with fewer distinct vectors than
        codes repeats some (drawn with replacement from the distinct ones)."""
        if bool(self.initialized) or flat.shape[0] == 0:
            return
        candidates = self._distinct_rows(flat)  # [U]
        order = torch.randperm(candidates.shape[0], generator=self._generator)
        picks = candidates[order[: self.num_codes]]  # [min(U, K)]
        missing = self.num_codes - picks.shape[0]
        if missing > 0:
            extra = torch.randint(candidates.shape[0], (missing,), generator=self._generator)
            picks = torch.cat([picks, candidates[extra]])  # [K]
        codes = torch.arange(self.num_codes, device=flat.device)  # [K]
        self._reseed(codes, flat[picks.to(flat.device)])
        self.initialized.fill_(True)

    @torch.no_grad()
    def _revive(self, flat: torch.Tensor) -> list[Revival]:
        """Re-seed the codes whose running count is under `dead_code_threshold` from distinct
        batch vectors drawn without replacement. With more dead codes than distinct vectors, a
        random subset as large as the vectors is revived and the rest wait for later batches:
        two codes seeded from one vector would split its cluster and one would die again."""
        if self.dead_code_threshold is None or flat.shape[0] == 0:
            return []
        counts = self._usage_counts()  # [K]
        dead = torch.nonzero(counts < self.dead_code_threshold).flatten().cpu()  # [R]
        if dead.numel() == 0:
            return []
        candidates = self._distinct_rows(flat)  # [U]
        if dead.numel() > candidates.numel():
            chosen = torch.randperm(dead.numel(), generator=self._generator)[: candidates.numel()]
            dead = dead[chosen].sort().values  # [U]
        order = torch.randperm(candidates.numel(), generator=self._generator)[: dead.numel()]
        sources = candidates[order]  # [R], distinct
        old_counts = counts[dead.to(counts.device)].tolist()
        self._reseed(dead.to(flat.device), flat[sources.to(flat.device)])
        return [
            Revival(int(code), float(old), int(source))
            for code, old, source in zip(dead.tolist(), old_counts, sources.tolist(), strict=True)
        ]

    def _finish(
        self,
        flat: torch.Tensor,
        quantized: torch.Tensor,
        indices: torch.Tensor,
        distances: torch.Tensor,
        counts: torch.Tensor,
        restore: Callable[[torch.Tensor], torch.Tensor],
        index_shape: torch.Size,
        codebook_loss: torch.Tensor,
        revived: list[Revival],
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, Any]]:
        commitment = self.commitment_cost * F.mse_loss(flat, quantized.detach())
        z_q = restore(flat + (quantized - flat).detach())  # straight-through
        losses = {
            "commitment": commitment,
            "codebook": codebook_loss,
            "vq": commitment + codebook_loss,
        }
        info: dict[str, Any] = {
            "indices": indices.reshape(index_shape),
            "counts": counts,
            "perplexity": perplexity_of(counts),
            "usage": (counts > 0).float().mean(),
            "quantization_error": distances.mean(),
            "quantized": restore(quantized.detach()),
            "revived": revived,
        }
        return z_q, losses, info


class VectorQuantizerEMA(_Quantizer):
    """A codebook updated by exponential moving averages of the vectors assigned to each code
    (van den Oord et al. 2017, appendix), with Laplace smoothing of the cluster sizes.

    The EMA state starts consistent with the codebook: a count of 1 and a sum equal to the code
    (as vector-quantize-pytorch does), so an unused code stays where it is. A zero count with the
    code as its sum would divide the sum by the Laplace ε and blow unused codes up to ~1e6.

    With `dead_code_threshold`, codes whose EMA cluster size falls below it are re-seeded from
    distinct vectors of the batch, with a count that protects them for ⌈1/(1 − decay)⌉ steps
    and a sum of that count times the vector (docs/codebook.md, "The EMA state and dead codes").
    """

    def __init__(
        self,
        num_codes: int,
        code_dim: int,
        decay: float = 0.99,
        commitment_cost: float = 0.25,
        eps: float = 1e-5,
        dead_code_threshold: float | None = None,
        layout: Layout = "auto",
        seed: int = 0,
        init_scale: float = 1.0,
        data_init: bool = True,
    ) -> None:
        super().__init__(
            num_codes, code_dim, commitment_cost, dead_code_threshold, layout, seed, data_init
        )
        if not 0 < decay < 1:
            raise ValueError(f"decay must be in (0, 1), got {decay}")
        if eps <= 0:
            raise ValueError(f"eps must be > 0, got {eps}")
        self.decay = decay
        self.eps = eps
        generator = torch.Generator().manual_seed(seed)
        initial = init_scale * torch.randn(num_codes, code_dim, generator=generator)
        self.embedding: torch.Tensor
        self.ema_cluster_size: torch.Tensor
        self.ema_w: torch.Tensor
        self.register_buffer("embedding", initial)
        # a count of 1 per code and the code as its sum: the EMA mean is the initial codebook
        self.register_buffer("ema_cluster_size", torch.ones(num_codes))  # [K]
        self.register_buffer("ema_w", initial.clone())  # [K, D], = codebook · count

    @property
    def codebook(self) -> torch.Tensor:
        return self.embedding

    def _usage_counts(self) -> torch.Tensor:
        return self.ema_cluster_size

    def _decay(self) -> float:
        return self.decay

    @torch.no_grad()
    def _reseed(self, codes: torch.Tensor, vectors: torch.Tensor) -> None:
        count = self._fresh_count()
        vectors = vectors.to(self.embedding.dtype)  # [R, D]
        self.ema_cluster_size[codes] = count  # [R]
        self.ema_w[codes] = vectors * count  # [R, D]: the EMA mean is the vector itself
        self.embedding[codes] = vectors  # [R, D]

    @torch.no_grad()
    def _ema_update(self, flat: torch.Tensor, indices: torch.Tensor, counts: torch.Tensor) -> None:
        d = self.decay
        self.ema_cluster_size.mul_(d).add_(counts.to(self.ema_cluster_size.dtype), alpha=1 - d)
        summed = torch.zeros_like(self.ema_w).index_add_(0, indices, flat.to(self.ema_w.dtype))
        self.ema_w.mul_(d).add_(summed, alpha=1 - d)
        n = self.ema_cluster_size.sum()
        smoothed = (self.ema_cluster_size + self.eps) / (n + self.num_codes * self.eps) * n
        self.embedding.copy_(self.ema_w / smoothed[:, None])

    def forward(
        self, z: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, Any]]:
        flat, restore, index_shape = to_vectors(z, self.code_dim, self.layout)
        if self.training and torch.is_grad_enabled():
            self._init_from_data(flat.detach())
        indices, distances = nearest_codes(flat.detach(), self.embedding)
        counts = torch.bincount(indices, minlength=self.num_codes)
        quantized = F.embedding(indices, self.embedding).clone()  # the codes before this update
        revived: list[Revival] = []
        if self.training and torch.is_grad_enabled():
            self._ema_update(flat.detach(), indices, counts)
            revived = self._revive(flat.detach())
        codebook_loss = torch.zeros((), device=z.device)  # the codebook learns by EMA, not loss
        return self._finish(
            flat,
            quantized,
            indices,
            distances,
            counts,
            restore,
            index_shape,
            codebook_loss,
            revived,
        )


class VectorQuantizer(_Quantizer):
    """A codebook learned by gradient: the codebook loss ‖sg(z) − q‖² moves the codes, so their
    gradients can be inspected. With `dead_code_threshold`, a code whose usage EMA (decay 0.99)
    falls below it is re-seeded from a batch vector, its usage EMA reset to a count that protects
    it for ⌈1/(1 − usage_decay)⌉ steps (docs/codebook.md, "The EMA state and dead codes")."""

    def __init__(
        self,
        num_codes: int,
        code_dim: int,
        commitment_cost: float = 0.25,
        dead_code_threshold: float | None = None,
        layout: Layout = "auto",
        seed: int = 0,
        usage_decay: float = 0.99,
        init_scale: float = 1.0,
        data_init: bool = True,
    ) -> None:
        super().__init__(
            num_codes, code_dim, commitment_cost, dead_code_threshold, layout, seed, data_init
        )
        generator = torch.Generator().manual_seed(seed)
        initial = init_scale * torch.randn(num_codes, code_dim, generator=generator)
        self.weight = nn.Parameter(initial)
        self.usage_decay = usage_decay
        self.usage_ema: torch.Tensor
        self.register_buffer("usage_ema", torch.zeros(num_codes))

    @property
    def codebook(self) -> torch.Tensor:
        return self.weight

    def _usage_counts(self) -> torch.Tensor:
        return self.usage_ema

    def _decay(self) -> float:
        return self.usage_decay

    @torch.no_grad()
    def _reseed(self, codes: torch.Tensor, vectors: torch.Tensor) -> None:
        self.weight.data[codes] = vectors.to(self.weight.dtype)  # [R, D]
        self.usage_ema[codes] = self._fresh_count()  # [R]

    def forward(
        self, z: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, Any]]:
        flat, restore, index_shape = to_vectors(z, self.code_dim, self.layout)
        if self.training and torch.is_grad_enabled():
            self._init_from_data(flat.detach())
        indices, distances = nearest_codes(flat.detach(), self.weight.detach())
        counts = torch.bincount(indices, minlength=self.num_codes)
        quantized = F.embedding(indices, self.weight)  # gradients reach the codes
        codebook_loss = F.mse_loss(quantized, flat.detach())
        revived: list[Revival] = []
        if self.training and torch.is_grad_enabled():
            with torch.no_grad():
                d = self.usage_decay
                self.usage_ema.mul_(d).add_(counts.to(self.usage_ema.dtype), alpha=1 - d)
            revived = self._revive(flat.detach())
        return self._finish(
            flat,
            quantized,
            indices,
            distances,
            counts,
            restore,
            index_shape,
            codebook_loss,
            revived,
        )


class ResidualVQ(nn.Module):
    """`num_levels` quantizers, each quantizing what the levels before it left over.

    The output is z + sg(Σ q_l − z): one straight-through for the whole stack, so the encoder's
    gradient is not multiplied by the number of levels. Each level's commitment loss is taken on
    its own residual, which carries the encoder's gradient; losses are summed over levels.
    """

    def __init__(
        self,
        num_levels: int,
        num_codes: int,
        code_dim: int,
        kind: QuantizerKind = "ema",
        seed: int = 0,
        **quantizer_options: Any,
    ) -> None:
        super().__init__()
        if not 1 <= num_levels <= 16:
            raise ValueError(f"num_levels must be in 1..16, got {num_levels}")
        if kind not in ("ema", "learned"):
            raise ValueError(f"kind must be 'ema' or 'learned', got {kind!r}")
        self.num_levels = num_levels
        self.num_codes = num_codes
        self.code_dim = code_dim
        self.kind: QuantizerKind = kind
        make = VectorQuantizerEMA if kind == "ema" else VectorQuantizer
        self.levels = nn.ModuleList(
            make(num_codes, code_dim, seed=seed + level, **quantizer_options)
            for level in range(num_levels)
        )

    def quantizers(self) -> list[VectorQuantizerEMA | VectorQuantizer]:
        """The levels, typed."""
        return [level for level in self.levels if isinstance(level, _Quantizer)]  # type: ignore[misc]

    def codebooks(self) -> torch.Tensor:
        """All levels' codebooks, `[L, K, D]` (detached)."""
        return torch.stack([level.codebook.detach() for level in self.quantizers()])

    def forward(
        self, z: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, Any]]:
        residual = z
        total = torch.zeros_like(z)
        losses: dict[str, torch.Tensor] = {}
        infos: list[dict[str, Any]] = []
        for level in self.levels:
            _, level_losses, info = level(residual)
            hard = info["quantized"]
            residual = residual - hard
            total = total + hard
            for name, value in level_losses.items():
                losses[name] = losses[name] + value if name in losses else value
            infos.append(info)
        z_q = z + (total - z).detach()
        info_all: dict[str, Any] = {
            "levels": infos,
            "indices": torch.stack([info["indices"] for info in infos]),  # [L, B, *S]
            "counts": torch.stack([info["counts"] for info in infos]),  # [L, K]
            "perplexity": torch.stack([info["perplexity"] for info in infos]),  # [L]
            "usage": torch.stack([info["usage"] for info in infos]),  # [L]
            "quantization_error": torch.stack([info["quantization_error"] for info in infos]),
            "quantized": total.detach(),
            "revived": [info["revived"] for info in infos],
        }
        return z_q, losses, info_all
