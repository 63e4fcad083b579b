"""Server settings: a frozen dataclass read from flags and environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch

from acc.step_inspector import CaptureBudget


def default_device() -> str:
    """`$ACC_DEVICE` when set, else `cuda` when a GPU is visible, else `cpu`."""
    configured = os.environ.get("ACC_DEVICE")
    if configured:
        return configured
    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass(frozen=True)
class Settings:
    """How the trainer API runs. Every default is the safe, local one."""

    host: str = "127.0.0.1"  # loopback only: the API runs training code on request
    port: int = 8787
    # The dashboard is the only browser origin allowed to call the API cross-origin; through
    # its proxy it is same-origin anyway, so this matters only for direct calls.
    ui_origins: tuple[str, ...] = ("http://127.0.0.1:4321", "http://localhost:4321")
    device: str = field(default_factory=default_device)
    # What each session and run keeps of its captures (and so the memory it may take).
    budget: CaptureBudget = field(default_factory=CaptureBudget)
