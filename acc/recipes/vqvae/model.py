"""The model of the VQ-VAE recipe: a small convolutional VQ-VAE with a residual codebook."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from acc.recipes.vqvae.quantizer import QuantizerKind, ResidualVQ


@dataclass
class VQVAEOutput:
    """What `VQVAE.forward` returns: the reconstruction, the encoder output, the quantized latent,
    the quantizer's losses and info (see `acc.recipes.vqvae.quantizer`)."""

    reconstruction: torch.Tensor  # [B, 1, 28, 28]
    z_e: torch.Tensor  # [B, code_dim, 7, 7]
    z_q: torch.Tensor  # [B, code_dim, 7, 7]
    losses: dict[str, torch.Tensor]
    info: dict[str, Any]


class VQVAE(nn.Module):
    """A small convolutional VQ-VAE for 28×28 images with a residual codebook.

    Encoder: two stride-2 4×4 convolutions (28 → 14 → 7) and a 1×1 convolution to `code_dim`;
    quantizer: `ResidualVQ(num_levels, num_codes, code_dim)` over the 7×7 positions; decoder: a 3×3
    convolution and two stride-2 transposed convolutions back to 28×28, then a sigmoid.
    """

    def __init__(
        self,
        num_codes: int = 128,
        num_levels: int = 3,
        code_dim: int = 16,
        hidden: int = 32,
        kind: QuantizerKind = "ema",
        seed: int = 0,
        **quantizer_options: Any,
    ) -> None:
        super().__init__()
        self.num_codes = num_codes
        self.num_levels = num_levels
        self.code_dim = code_dim
        self.hidden = hidden
        self.kind: QuantizerKind = kind
        self.encoder = nn.Sequential(
            nn.Conv2d(1, hidden, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(hidden, 2 * hidden, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(2 * hidden, code_dim, 1),
        )
        self.quantizer = ResidualVQ(
            num_levels,
            num_codes,
            code_dim,
            kind,
            seed=seed,
            layout="channels_first",
            **quantizer_options,
        )
        self.decoder = nn.Sequential(
            nn.Conv2d(code_dim, 2 * hidden, 3, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(2 * hidden, hidden, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(hidden, 1, 4, stride=2, padding=1),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> VQVAEOutput:
        z_e = self.encoder(x)
        z_q, losses, info = self.quantizer(z_e)
        return VQVAEOutput(self.decoder(z_q), z_e, z_q, losses, info)

    @torch.no_grad()
    def decode_vectors(self, vectors: torch.Tensor) -> torch.Tensor:
        """Images `[N, 1, 28, 28]` of latent vectors `[N, code_dim]`, each repeated over all 7×7
        positions (how a single code, or a sum of codes, looks on its own)."""
        grid = vectors[:, :, None, None].expand(-1, -1, 7, 7)
        return self.decoder(grid)
