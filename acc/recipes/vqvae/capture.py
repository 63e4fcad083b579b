"""What a VQ-VAE training step feeds the inspector, the codebook health window and the dynamics
monitor; plus the validation pass every `val_every` steps. Plugs into `Trainer.train` like the
BCL recipe's capture (`acc.recipes.bcl.capture.BCLCapture`)."""

from __future__ import annotations

import base64
import threading
from typing import Any

import numpy as np
import torch

from acc.image_grid import encode_png, make_grid
from acc.recipes import TrainingSetup
from acc.recipes.vqvae.health import CodebookHealth, dead_code_mask, utilisation
from acc.recipes.vqvae.model import VQVAE, VQVAEOutput
from acc.recipes.vqvae.monitor import CodebookMonitor
from acc.recipes.vqvae.quantizer import VectorQuantizerEMA
from acc.step_capture import Capture, Detail, DetailPlan, always_full
from acc.step_inspector import StepData, StepInspector, StepTensorKey
from acc.trainer import StepInfo

K = StepTensorKey
VAL_EVERY = 50
MAX_SERIES = 100_000


class VQCapture(Capture):
    """Feeds one `StepInspector` from a VQ-VAE setup and keeps the codebook's health, dynamics
    and validation figures. Written on the worker thread; read (under a lock) from any thread."""

    def __init__(
        self,
        setup: TrainingSetup,
        inspector: StepInspector,
        plan: DetailPlan = always_full,
        *,
        eval_images: torch.Tensor,
        val_every: int = VAL_EVERY,
    ) -> None:
        model = setup.model
        assert isinstance(model, VQVAE)
        self.setup = setup
        self.model = model
        self.inspector = inspector
        self.plan = plan
        self.eval_images = eval_images.to(setup.device)
        self.val_every = val_every
        levels, codes = model.num_levels, model.num_codes
        self.health = CodebookHealth(levels, codes)
        self.monitor = CodebookMonitor(levels, codes)
        self.lock = threading.Lock()
        self.validation: list[dict[str, Any]] = []  # {step, loss, commitment, usage, counts}
        self.detail = Detail.FULL
        self.last_committed: StepData | None = None
        self._grads: np.ndarray | None = None
        self._counts: np.ndarray | None = None
        self._errors: np.ndarray | None = None
        self._revived: list[Any] = []
        self.decoded: dict[str, Any] | None = None

    def close(self) -> None:
        """Nothing to detach (no hooks); present for the capture interface."""

    def state_dict(self) -> dict[str, Any]:
        """The codebook health window, the dynamics monitor, how many validation records there
        are and the latest decoded codes (each step's health and drift depend on them)."""
        with self.lock:
            return {
                "health": self.health.state_dict(),
                "monitor": self.monitor.state_dict(),
                "validation_until": self.validation[-1]["step"] if self.validation else -1,
                "decoded": self.decoded,
            }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        with self.lock:
            self.health.load_state_dict(state["health"])
            self.monitor.load_state_dict(state["monitor"])
            until = state["validation_until"]
            self.validation = [record for record in self.validation if record["step"] <= until]
            self.decoded = state["decoded"]

    def _capture(self, key: StepTensorKey, value: torch.Tensor | np.ndarray | float) -> None:
        if self.wants(key):
            self.inspector.capture(key, value, fresh=True)

    def on_step_start(self, step: int) -> None:
        """Decide how much this step keeps: at least every history key, which are small here
        ([L] vectors and scalars) and which the codebook views draw for every step."""
        self.detail = max(self.plan(step), Detail.HISTORY)

    def on_after_backward(self, info: StepInfo) -> None:
        """Before the optimizer step: the batch, the losses, code usage and code gradients."""
        output = info.output
        assert isinstance(output, VQVAEOutput)
        losses = info.losses
        self._capture(K.BATCH_IMAGES, info.batch.images)
        self._capture(K.BATCH_LABELS, info.batch.labels)
        self._capture(K.LOSS, info.loss.detach())
        for key, name in (
            (K.RECONSTRUCTION_LOSS, "reconstruction"),
            (K.VQ_COMMITMENT_LOSS, "commitment"),
            (K.VQ_CODEBOOK_LOSS, "codebook"),
            (K.WASSERSTEIN_LOSS, "wasserstein"),
        ):
            self._capture(key, losses[name].detach())
        self._capture(K.VQ_PERPLEXITY, output.info["perplexity"].detach())
        self._capture(K.VQ_USAGE, output.info["usage"].detach())
        counts = output.info["counts"].detach().cpu().numpy()
        self._counts = counts
        # [L]: each level's mean squared distance from its input (the residual) to the nearest
        # code, computed by the quantizer's nearest-code search
        self._errors = output.info["quantization_error"].detach().cpu().numpy()
        self._capture(K.CODE_COUNTS, counts.astype(np.float32))
        self._revived = output.info["revived"]
        self._grads = None
        if self.model.quantizer.kind == "learned":
            rows = []
            for level in self.model.quantizer.quantizers():
                grad = level.codebook.grad
                rows.append(
                    grad.detach().cpu().numpy()
                    if grad is not None
                    else np.zeros((level.num_codes, level.code_dim), dtype=np.float32)
                )
            self._grads = np.stack(rows)

    def on_step_end(self, info: StepInfo) -> None:
        """After the optimizer step: codebook dynamics and health, validation, then commit."""
        quantizer = self.model.quantizer
        books = quantizer.codebooks().cpu().numpy()
        ema_sizes = (
            np.stack(
                [
                    level.ema_cluster_size.cpu().numpy()
                    for level in quantizer.quantizers()
                    if isinstance(level, VectorQuantizerEMA)
                ]
            )
            if quantizer.kind == "ema"
            else None
        )
        with self.lock:
            self.monitor.record(
                info.step, books, self._grads, ema_sizes, self._revived, self._errors
            )
            if self._counts is not None:
                self.health.update(info.step, self._counts, self.monitor.last_drift, self._errors)
        if info.step % self.val_every == 0 or info.step == 1:
            self._validate(info.step)
            self._decode_codes(info.step)
        data = self.inspector.commit(info.step, full=self.full)
        self.last_committed = data

    @torch.no_grad()
    def _validate(self, step: int) -> None:
        was_training = self.model.training
        self.model.eval()  # no EMA updates, no revivals
        try:
            output = self.model(self.eval_images)
            loss = torch.nn.functional.mse_loss(output.reconstruction, self.eval_images)
            counts = output.info["counts"].cpu().numpy()
            record = {
                "step": step,
                "loss": float(loss + output.losses["vq"]),
                "reconstruction": float(loss),
                "commitment": float(output.losses["commitment"]),
                "usage": [utilisation(row) for row in counts],
                "counts": counts.tolist(),
            }
        finally:
            self.model.train(was_training)
        with self.lock:
            self.validation.append(record)
            if len(self.validation) > MAX_SERIES:
                del self.validation[: len(self.validation) // 2]

    @torch.no_grad()
    def _decode_codes(self, step: int, top: int = 8) -> None:
        """What each level-1 code looks like alone, and the `top` most used level-1 codes plus
        the `top` most used level-2 codes, decoded (rows: level-1 code, columns: level-2 code)."""
        books = self.model.quantizer.codebooks()  # [L, K, E]
        with self.lock:
            counts = self.health.window_counts()
        level1 = self.model.decode_vectors(books[0]).cpu().numpy()
        decoded: dict[str, Any] = {
            "step": step,
            "level1": _png_entry(level1, columns=16, codes=list(range(books.shape[1]))),
            "combinations": None,
        }
        if books.shape[0] >= 2:
            # The most used level-1 codes mostly stand for the empty background and decode to
            # black; prefer the most used among those that draw some ink.
            by_use = np.argsort(-counts[0], kind="stable")
            ink = level1.reshape(level1.shape[0], -1).mean(1)
            inked = [int(code) for code in by_use if counts[0][code] > 0 and ink[code] > 0.05]
            first = np.array((inked + [int(c) for c in by_use if int(c) not in inked])[:top])
            second = np.argsort(-counts[1], kind="stable")[:top]
            sums = books[0][first][:, None, :] + books[1][second][None, :, :]  # [top, top, E]
            images = self.model.decode_vectors(sums.reshape(-1, books.shape[2])).cpu().numpy()
            decoded["combinations"] = {
                **_png_entry(images, columns=len(second), codes=[]),
                "level1_codes": first.tolist(),
                "level2_codes": second.tolist(),
            }
        with self.lock:
            self.decoded = decoded

    def decoded_codes(self) -> dict[str, Any] | None:
        with self.lock:
            return self.decoded

    # -- reads (any thread) ------------------------------------------------------------------------

    def health_report(self) -> dict[str, Any]:
        with self.lock:
            report = self.health.report()
            latest = self.validation[-1] if self.validation else None
        report["validation"] = (
            {"step": latest["step"], "usage": latest["usage"], "counts": latest["counts"]}
            if latest
            else None
        )
        return report

    def validation_series(self, since: int = 0) -> list[dict[str, Any]]:
        with self.lock:
            return [
                {key: value for key, value in record.items() if key != "counts"}
                for record in self.validation
                if record["step"] >= since
            ]

    def error_series(self, steps: Any) -> dict[str, list[list[float] | None]]:
        """Per-level codebook drift and quantisation error `[S][L]` at `steps` (see
        `CodebookMonitor.series`)."""
        with self.lock:
            return self.monitor.series(steps)

    def dynamics(self, level: int) -> dict[str, Any]:
        """Level `level` (0-based): trajectories, and code gradient EMA (learned) or EMA cluster
        sizes (EMA codebooks), with the dead-code mask of the health window."""
        with self.lock:
            counts = self.health.window_counts()[level]
            dead = dead_code_mask(counts, self.health.dead_fraction) if counts.sum() else None
            trajectory = self.monitor.trajectories(level, dead)
            grad = self.monitor.grad_ema
            sizes = self.monitor.ema_cluster_sizes
            return {
                "kind": self.model.quantizer.kind,
                "trajectory": trajectory,
                "grad_ema": grad[level].tolist() if grad is not None else None,
                "grad_alpha": self.monitor.grad_alpha,
                "ema_cluster_sizes": sizes[level].tolist() if sizes is not None else None,
                "counts": counts.tolist(),
                "snapshot_every": self.monitor.snapshot_every,
            }


def _png_entry(images: np.ndarray, columns: int, codes: list[int]) -> dict[str, Any]:
    png = encode_png(make_grid(images, columns=columns, padding=1))
    return {
        "format": "png",
        "count": int(images.shape[0]),
        "columns": columns,
        "codes": codes,
        "data": base64.b64encode(png).decode("ascii"),
    }
