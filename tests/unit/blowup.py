"""A module that turns its input non-finite once armed: for tests of where NaN/inf show first."""

from __future__ import annotations

import torch
from torch import nn


class Blowup(nn.Module):
    """Passes its input through; once `armed`, divides it by zero (inf, or NaN for zeros)."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x / 0 if self.armed else x
