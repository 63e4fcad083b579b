"""An entropic Wasserstein (Sinkhorn) loss between a batch of encoder vectors and a codebook: it
pulls every code, dead ones included, toward the data (each code is owed 1/K of the mass)."""

from __future__ import annotations

import math

import torch


def sinkhorn_loss(
    vectors: torch.Tensor,
    codes: torch.Tensor,
    epsilon: float = 0.05,
    iterations: int = 50,
    max_vectors: int = 1024,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """⟨P, C⟩ for the entropic optimal transport plan P between the uniform distributions on
    `vectors` [M, dim] and `codes` [K, dim], with C the squared distances divided by their mean
    (so `epsilon` does not depend on the scale of the data). At most `max_vectors` vectors are
    used (a seeded random subset). The gradient is taken with P fixed (the envelope theorem: it
    is the gradient of the transport cost), so it reaches both the vectors and the codes."""
    if epsilon <= 0:
        raise ValueError(f"epsilon must be > 0, got {epsilon}")
    if vectors.shape[0] > max_vectors:
        pick = torch.randperm(vectors.shape[0], generator=generator)[:max_vectors]
        vectors = vectors[pick.to(vectors.device)]
    cost = torch.cdist(vectors, codes).pow(2)  # [M, K]
    scaled = cost / cost.detach().mean().clamp_min(1e-12)
    m, k = scaled.shape
    log_a = torch.full((m,), -math.log(m), device=scaled.device)
    log_b = torch.full((k,), -math.log(k), device=scaled.device)
    with torch.no_grad():
        kernel = -scaled.detach() / epsilon
        f = torch.zeros(m, device=scaled.device)
        g = torch.zeros(k, device=scaled.device)
        for _ in range(iterations):  # log-domain updates: stable for small epsilon
            f = -torch.logsumexp(kernel + g[None, :] + log_b[None, :], dim=1)
            g = -torch.logsumexp(kernel + f[:, None] + log_a[:, None], dim=0)
        plan = torch.exp(kernel + f[:, None] + g[None, :] + log_a[:, None] + log_b[None, :])
    return (plan * scaled).sum()
