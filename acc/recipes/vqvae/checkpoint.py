"""VQ-VAE checkpoints: a plain dict of config values and tensors, loaded with
`torch.load(weights_only=True)` (a checkpoint file can never run code on load)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from acc.recipes.vqvae.model import VQVAE

FORMAT = "acc-vqvae-1"


class CheckpointError(ValueError):
    """A file that is not an acc VQ-VAE checkpoint; the message names the file."""


def save_checkpoint(path: str | Path, model: VQVAE, options: dict[str, Any], step: int) -> Path:
    """Write the model's weights and its construction config to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = {
        "format": FORMAT,
        "step": step,
        "config": {
            "num_codes": model.num_codes,
            "num_levels": model.num_levels,
            "code_dim": model.code_dim,
            "hidden": model.hidden,
            "kind": model.kind,
        },
        "options": {k: v for k, v in options.items() if isinstance(v, str | int | float | bool)},
        "state_dict": model.state_dict(),
    }
    torch.save(blob, path)
    return path


def load_checkpoint(
    path: str | Path, device: torch.device | str = "cpu"
) -> tuple[VQVAE, dict[str, Any]]:
    """The model saved at `path` (in eval mode) and the checkpoint's metadata."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        blob = torch.load(path, map_location=device, weights_only=True)
    except Exception as error:  # unpickling errors come in many types
        raise CheckpointError(f"{path} is not a loadable checkpoint: {error}") from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an acc VQ-VAE checkpoint (format {FORMAT})")
    config = blob["config"]
    model = VQVAE(
        config["num_codes"],
        config["num_levels"],
        config["code_dim"],
        config["hidden"],
        kind=config["kind"],
        data_init=False,
    ).to(device)
    model.load_state_dict(blob["state_dict"])
    model.eval()
    return model, {"step": blob["step"], "config": config, "options": blob["options"]}
