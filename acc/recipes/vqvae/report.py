"""`acc codebook-report`: the codebook analysis of a trained VQ-VAE (per-level usage, perplexity, dead codes; a six-panel picture).

Writes into the output folder: `codebook_analysis.json` (active codes, usage ratio, most and least
used codes, perplexity mean/std over batches, dead codes with their rule, transition-matrix
entropy, run-length statistics, k-means clusters of the codes), `codebook_visualization.png`,
`selftest.txt` (the quantizer self-test) and `pip-freeze.txt`. Without a checkpoint (none given
and none found, or a path that does not exist) only the self-test and the environment are written,
and the report says why.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, never a window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from acc.data import MnistData  # noqa: E402
from acc.recipes.vqvae.health import (  # noqa: E402
    DEFAULT_DEAD_FRACTION,
    RULES,
    dead_code_mask,
    perplexity,
    run_length_stats,
    run_lengths,
    transition_counts,
    transition_entropy,
)
from acc.recipes.vqvae.model import VQVAE  # noqa: E402
from acc.recipes.vqvae.monitor import pca_2d  # noqa: E402
from acc.recipes.vqvae.quantizer import VectorQuantizerEMA  # noqa: E402

ANALYSIS_FILE = "codebook_analysis.json"
FIGURE_FILE = "codebook_visualization.png"
SELFTEST_FILE = "selftest.txt"
FREEZE_FILE = "pip-freeze.txt"
CHECKPOINT_NAME = "checkpoint.pt"  # what `acc run vqvae` writes (acc/recipes/vqvae/train.py)
CLUSTERS = 8
PANELS = 6  # per level, one row of the figure


def newest_checkpoint(root: str | Path) -> Path | None:
    """The most recently written `checkpoint.pt` anywhere under `root` (`acc run vqvae` writes
    `runs/vqvae/CONDITION-seedSEED/checkpoint.pt`), or None when there is none."""
    root = Path(root)
    if not root.is_dir():
        return None
    found = [path for path in root.rglob(CHECKPOINT_NAME) if path.is_file()]
    return max(found, key=lambda path: (path.stat().st_mtime_ns, str(path))) if found else None


def selftest() -> dict[str, Any]:
    """Seed 004's check: `VectorQuantizerEMA(512, 64)` on `[32, 64, 1, 100]`."""
    vq = VectorQuantizerEMA(num_codes=512, code_dim=64, decay=0.99, commitment_cost=0.25)
    vq.train()
    z = torch.randn(32, 64, 1, 100, generator=torch.Generator().manual_seed(0))
    z_q, losses, info = vq(z)
    return {
        "shape": list(z_q.shape),
        "loss": float(losses["vq"].detach()),
        "usage": float(info["usage"]),
        "ok": list(z_q.shape) == [32, 64, 1, 100] and math.isfinite(float(losses["vq"].detach())),
    }


def kmeans(points: np.ndarray, k: int, seed: int = 0, iterations: int = 50) -> np.ndarray:
    """Cluster labels of `points` [N, dim] by k-means with k-means++ seeding."""
    rng = np.random.default_rng(seed)
    k = min(k, len(points))
    centres = [points[rng.integers(len(points))]]
    for _ in range(1, k):
        d2 = np.min([((points - c) ** 2).sum(1) for c in centres], axis=0)
        total = d2.sum()
        index = rng.choice(len(points), p=d2 / total) if total > 0 else rng.integers(len(points))
        centres.append(points[index])
    centre = np.array(centres)
    labels = np.zeros(len(points), dtype=np.int64)
    for _ in range(iterations):
        labels = ((points[:, None, :] - centre[None]) ** 2).sum(-1).argmin(1)
        moved = np.array(
            [points[labels == j].mean(0) if np.any(labels == j) else centre[j] for j in range(k)]
        )
        if np.allclose(moved, centre):
            break
        centre = moved
    return labels


@torch.no_grad()
def collect_indices(
    model: VQVAE, data: MnistData, max_batches: int, batch_size: int = 128
) -> np.ndarray:
    """Code indices `[L, N, 49]` of up to `max_batches` evaluation batches (positions row-major:
    the "time" axis along which transitions and runs are counted, per image)."""
    model.eval()
    device = next(model.parameters()).device
    images = data.eval.images
    chunks = []
    for batch in range(max_batches):
        part = images[batch * batch_size : (batch + 1) * batch_size]
        if len(part) == 0:
            break
        indices = model(part.to(device)).info["indices"]  # [L, B, 7, 7]
        chunks.append(indices.reshape(indices.shape[0], indices.shape[1], -1).cpu().numpy())
    return np.concatenate(chunks, axis=1)


def analyse(model: VQVAE, data: MnistData, max_batches: int = 10) -> dict[str, Any]:
    """The analysis of every level, as plain JSON values."""
    return analyse_indices(model, collect_indices(model, data, max_batches))


def _batch_perplexities(sequences: np.ndarray, num_codes: int) -> list[float]:
    """Perplexity of each evaluation batch (128 images) of one level's `[N, 49]` indices."""
    return [
        perplexity(np.bincount(chunk.ravel(), minlength=num_codes))
        for chunk in np.array_split(sequences, max(1, math.ceil(len(sequences) / 128)))
    ]


def analyse_indices(model: VQVAE, indices: np.ndarray) -> dict[str, Any]:
    """The analysis of every level from its code indices `[L, N, 49]`."""
    books = model.quantizer.codebooks().cpu().numpy()
    levels = []
    for level in range(indices.shape[0]):
        sequences = indices[level]  # [N, 49]
        counts = np.bincount(sequences.ravel(), minlength=model.num_codes)
        per_batch = _batch_perplexities(sequences, model.num_codes)
        order = np.argsort(-counts, kind="stable")
        active = np.flatnonzero(counts)
        transitions = transition_counts(sequences, model.num_codes)
        labels = kmeans(books[level], CLUSTERS)
        levels.append(
            {
                "level": level + 1,
                "active_codes": int(active.size),
                "usage_ratio": float(active.size / model.num_codes),
                "most_used": [[int(c), int(counts[c])] for c in order[:10]],
                "least_used": [[int(c), int(counts[c])] for c in order[::-1][:10]],
                "perplexity_mean": float(np.mean(per_batch)),
                "perplexity_std": float(np.std(per_batch)),
                "dead_codes": int(dead_code_mask(counts, DEFAULT_DEAD_FRACTION).sum()),
                "transition_entropy": transition_entropy(transitions),
                "run_lengths": run_length_stats(run_lengths(sequences)),
                "clusters": [
                    {
                        "cluster": j,
                        "size": int((labels == j).sum()),
                        "codes": np.flatnonzero(labels == j).tolist(),
                    }
                    for j in range(int(labels.max()) + 1)
                ],
                "counts": counts.tolist(),
            }
        )
    return {
        "vectors_analysed": int(indices.shape[1] * indices.shape[2]),
        "images_analysed": int(indices.shape[1]),
        "num_codes": model.num_codes,
        "num_levels": model.num_levels,
        "dead_code_rule": f"{RULES['dead_codes']}, dead_fraction = {DEFAULT_DEAD_FRACTION}",
        "transitions_rule": "code_t → code_t+1 along the 7×7 positions of each image (row-major), "
        "never across images",
        "levels": levels,
    }


def plot(
    model: VQVAE,
    analysis: dict[str, Any],
    path: Path,
    indices: np.ndarray,
    title: str = "Codebook analysis",
) -> dict[str, Any]:
    """One row of six panels per level: usage by rank (log), PCA of the codes coloured by usage,
    the transitions of the 30 most used codes, pairwise code distances, perplexity per batch, EMA
    cluster sizes (or the code norms of a learned codebook); `title` above them. `indices` are the
    analysed code indices `[L, N, 49]`. Returns the title and the panels' titles, row by row."""
    books = model.quantizer.codebooks().cpu().numpy()
    quantizers = model.quantizer.quantizers()
    rows = len(analysis["levels"])
    figure, grid = plt.subplots(rows, PANELS, figsize=(4 * PANELS, 3.6 * rows + 0.6), dpi=70)
    axes = np.asarray(grid).reshape(rows, PANELS)
    for row, level in enumerate(analysis["levels"]):
        name = f"Level {level['level']}"
        counts = np.array(level["counts"])
        codes = books[row]
        order = np.argsort(-counts, kind="stable")
        ranked = counts[order][counts[order] > 0]
        ax = axes[row]
        ax[0].bar(np.arange(len(ranked)), ranked, color="#4f46e5")
        ax[0].set_yscale("log")
        unused = int((counts == 0).sum())
        ax[0].set_title(f"{name}: usage by rank (log; {unused} unused)", fontsize=10)
        ax[0].set_xlabel("code rank")
        xy = pca_2d(codes, codes)
        scatter = ax[1].scatter(xy[:, 0], xy[:, 1], c=np.log1p(counts), cmap="viridis", s=14)
        figure.colorbar(scatter, ax=ax[1], label="log(1 + uses)")
        ax[1].set_title(f"{name}: codes (PCA) by usage", fontsize=10)
        top = order[:30]
        transitions = transition_counts(indices[row], model.num_codes)[np.ix_(top, top)]
        sums = transitions.sum(1, keepdims=True)
        image = ax[2].imshow(
            np.divide(transitions, sums, out=np.zeros(transitions.shape), where=sums > 0),
            cmap="magma",
        )
        figure.colorbar(image, ax=ax[2])
        ax[2].set_title(f"{name}: transitions, top 30 codes", fontsize=10)
        distances = np.sqrt(((codes[:, None] - codes[None]) ** 2).sum(-1))
        image = ax[3].imshow(distances[np.ix_(order, order)], cmap="viridis")
        figure.colorbar(image, ax=ax[3])
        ax[3].set_title(f"{name}: code distances (by rank)", fontsize=10)
        ax[4].plot(_batch_perplexities(indices[row], model.num_codes), marker="o", color="#16a34a")
        ax[4].set_title(f"{name}: perplexity per batch", fontsize=10)
        ax[4].set_xlabel("batch")
        quantizer = quantizers[row]
        if isinstance(quantizer, VectorQuantizerEMA):
            ax[5].bar(np.arange(model.num_codes), quantizer.ema_cluster_size.cpu().numpy()[order])
            ax[5].set_title(f"{name}: EMA cluster sizes (by rank)", fontsize=10)
        else:
            ax[5].bar(np.arange(model.num_codes), np.linalg.norm(codes, axis=1)[order])
            ax[5].set_title(f"{name}: code norms (learned, by rank)", fontsize=10)
    figure.suptitle(title, fontsize=15)
    figure.tight_layout()
    figure.savefig(path)
    panels = [[axis.get_title() for axis in row] for row in axes]
    plt.close(figure)
    return {"title": title, "panels": panels}


def pip_freeze() -> str:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "freeze"], capture_output=True, text=True, check=False
    )
    return result.stdout or result.stderr


def write_report(
    out_dir: str | Path,
    data: MnistData | None,
    checkpoint: str | Path | None = None,
    max_batches: int = 10,
    *,
    skipped: str | None = None,
) -> dict[str, Any]:
    """Write the report files; returns what was written and what was skipped (`skipped`: why
    there is no checkpoint, when the caller knows better than "none given")."""
    from acc.recipes.vqvae.checkpoint import load_checkpoint

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    test = selftest()
    (out / SELFTEST_FILE).write_text(json.dumps(test) + "\n")
    (out / FREEZE_FILE).write_text(pip_freeze())
    written = [SELFTEST_FILE, FREEZE_FILE]
    if checkpoint is None or data is None:
        return {
            "selftest": test,
            "written": written,
            "analysis": None,
            "figure": None,
            "skipped": skipped or "no checkpoint given: the codebook analysis was skipped",
        }
    model, meta = load_checkpoint(checkpoint)
    indices = collect_indices(model, data, max_batches)
    analysis = {
        "checkpoint": str(checkpoint),
        "step": meta["step"],
        **analyse_indices(model, indices),
    }
    (out / ANALYSIS_FILE).write_text(json.dumps(analysis, indent=2))
    title = (
        f"Codebook of {checkpoint} at step {meta['step']}: {model.num_levels} levels × "
        f"{model.num_codes} codes ({model.kind}), {analysis['images_analysed']:,} evaluation images"
    )
    figure = plot(model, analysis, out / FIGURE_FILE, indices, title)
    written += [ANALYSIS_FILE, FIGURE_FILE]
    return {
        "selftest": test,
        "written": written,
        "analysis": analysis,
        "figure": figure,
        "skipped": None,
    }
