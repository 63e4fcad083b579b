"""The model of the BCL recipe: a linear autoencoder whose encoder Linear BCL attaches to."""

from __future__ import annotations

import torch
from torch import nn


class LinearAutoencoder(nn.Module):
    """784 → D → 784 autoencoder: encoder `Linear → ReLU`, decoder `Linear → Sigmoid`.

    The encoder's `Linear` is addressable as `encoder.0`, which is where BCL's hooks attach.
    `forward` takes images of any leading shape ending in the pixels (e.g. `[B, 1, 28, 28]`) and
    returns `(latent [B, D], reconstruction [B, in_features])`.
    """

    def __init__(self, in_features: int = 784, dim: int = 64) -> None:
        super().__init__()
        self.in_features = in_features
        self.dim = dim
        self.encoder = nn.Sequential(nn.Linear(in_features, dim), nn.ReLU())
        self.decoder = nn.Sequential(nn.Linear(dim, in_features), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        flat = x.reshape(x.shape[0], self.in_features)  # [B, 784]
        latent = self.encoder(flat)  # [B, D]
        reconstruction = self.decoder(latent)  # [B, 784]
        return latent, reconstruction
