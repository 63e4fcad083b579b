from __future__ import annotations

import base64
import io

import numpy as np
import orjson
import pytest
import torch
from PIL import Image

from acc.step_inspector import StepInspector, StepTensorKey
from acc.tensor_wire import decode_frame, step_to_frame, step_to_json

K = StepTensorKey


def _step() -> StepInspector:
    inspector = StepInspector()
    inspector.capture(K.BATCH_IMAGES, torch.rand(10, 1, 28, 28))
    inspector.capture(K.BATCH_LABELS, torch.arange(10))
    inspector.capture(K.LOSS, 0.25)
    inspector.capture(K.WIN_RATE, torch.tensor([0.5, float("nan"), float("inf"), -float("inf")]))
    inspector.capture(K.NEIGHBORS, torch.tensor([[1, 2], [3, 0], [0, 1], [2, 1]]))
    inspector.capture(K.STRENGTH, torch.randn(10, 4))
    inspector.capture(K.WEIGHT_COSINE_MEAN, float("nan"))
    return inspector


def test_frame_round_trip_keeps_values_nan_inf_and_ints() -> None:
    data = _step().commit(7)
    header, arrays, images = decode_frame(step_to_frame(data, extra={"condition": "bcl-med"}))
    assert header["step"] == 7 and header["condition"] == "bcl-med"
    assert header["keys"] == list(data.arrays)
    for key in ("batch_labels", "win_rate", "neighbors", "strength", "loss"):
        np.testing.assert_array_equal(arrays[key], data.arrays[key])
        assert arrays[key].dtype == data.arrays[key].dtype
    assert arrays["neighbors"].dtype == np.int32
    assert np.isnan(arrays["win_rate"][1]) and arrays["win_rate"][2] == np.inf
    assert header["nonfinite"] == {"win_rate": 3, "weight_cosine_mean": 1}
    assert header["scalars"] == {"loss": 0.25, "weight_cosine_mean": None}
    grid = np.asarray(Image.open(io.BytesIO(images["batch_images"])))
    assert grid.shape == (1 + 29, 1 + 10 * 29)  # one row of 10 tiles of 28 + padding
    assert header["images"]["batch_images"]["count"] == 10


def test_frame_arrays_are_8_byte_aligned() -> None:
    frame = step_to_frame(_step().commit(1))
    length = int.from_bytes(frame[4:8], "little")
    assert (8 + length) % 8 == 0
    header = orjson.loads(frame[8 : 8 + length])
    assert all(spec["offset"] % 8 == 0 for spec in header["tensors"].values())


def test_json_sends_nonfinite_as_null_and_counts_it() -> None:
    body = orjson.loads(step_to_json(_step().commit(3)))
    assert body["step"] == 3
    assert body["win_rate"] == [0.5, None, None, None]
    assert body["weight_cosine_mean"] is None
    assert body["nonfinite"] == {"win_rate": 3, "weight_cosine_mean": 1}
    assert body["neighbors"] == [[1, 2], [3, 0], [0, 1], [2, 1]]
    png = base64.b64decode(body["batch_images"]["data"])
    assert Image.open(io.BytesIO(png)).format == "PNG"


def test_decode_rejects_a_non_frame() -> None:
    with pytest.raises(ValueError, match="not an acc frame"):
        decode_frame(b'{"step": 1}')


def test_frame_leaves_derivable_keys_out_and_the_reader_adds_them_back() -> None:
    inspector = StepInspector()
    w, opt, som = (torch.randn(4, 784) for _ in range(3))
    inspector.capture(K.ENCODER_WEIGHTS, w)
    inspector.capture(K.OPT_DELTA, opt)
    inspector.capture(K.SOM_DELTA, som)
    inspector.capture(K.COMBINED_DELTA, opt + som)
    inspector.capture(K.ENCODER_WEIGHTS_POST, w + (opt + som))
    data = inspector.commit(1)
    frame = step_to_frame(data)
    header, arrays, _ = decode_frame(frame)
    assert set(header["tensors"]) == {"encoder_weights", "opt_delta", "som_delta"}
    assert header["derived"] == [
        ["combined_delta", ["opt_delta", "som_delta"]],
        ["encoder_weights_post", ["encoder_weights", "combined_delta"]],
    ]
    for key in ("combined_delta", "encoder_weights_post"):
        np.testing.assert_allclose(arrays[key], data.arrays[key], atol=1e-6)
    assert len(frame) < data.nbytes - 2 * 4 * 784 * 4 + 4096


def test_without_som_delta_the_combined_delta_is_the_optimizer_delta() -> None:
    inspector = StepInspector()
    opt = torch.randn(3, 784)
    inspector.capture(K.OPT_DELTA, opt)
    inspector.capture(K.COMBINED_DELTA, opt)
    header, arrays, _ = decode_frame(step_to_frame(inspector.commit(1)))
    assert header["derived"] == [["combined_delta", ["opt_delta"]]]
    np.testing.assert_array_equal(arrays["combined_delta"], opt.numpy())
