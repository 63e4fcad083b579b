"""Server settings: a frozen dataclass read from flags and environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from acc.api.guard import GuardPolicy
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
    # Host names answered besides loopback and `host` (`--allow-host`): a name a researcher
    # reaches this machine by on purpose. Any other Host is refused (DNS rebinding).
    allowed_hosts: tuple[str, ...] = ()
    # The dashboard's port: pages served there may call the API cross-origin. Through the
    # dashboard's proxy the browser talks to one origin, so this matters only for direct calls.
    ui_port: int = 4321
    device: str = field(default_factory=default_device)
    # What each session and run keeps of its captures (and so the memory it may take).
    budget: CaptureBudget = field(default_factory=CaptureBudget)
    # Where every run is recorded (`--runs-dir`, env ACC_RUNS_DIR; `acc serve` defaults to
    # ./acc-runs); None records nothing. The cap prunes the oldest kept tensors beyond it.
    runs_dir: Path | None = None
    runs_max_bytes: int | None = None

    @property
    def guard_policy(self) -> GuardPolicy:
        """The hosts this server answers to and the origins that may change its state."""
        return GuardPolicy.for_server(self.host, (self.port, self.ui_port), self.allowed_hosts)

    @property
    def ui_origins(self) -> tuple[str, ...]:
        """The dashboard's origins (allowed cross-origin by CORS)."""
        return tuple(
            sorted(GuardPolicy.for_server(self.host, (self.ui_port,), self.allowed_hosts).origins)
        )
