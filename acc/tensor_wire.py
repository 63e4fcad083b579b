"""Step data on the wire: JSON for people and curl, a binary frame for the dashboard.

JSON: every array as nested lists (NaN/Inf become `null` and are counted under `nonfinite`),
`batch_images` as a base64 PNG grid. Frame: `b"ACCF"`, a little-endian u32 header length, the
JSON header, then the raw little-endian array bytes, each starting on an 8-byte boundary so the
browser can wrap them in typed-array views without copying; NaN and Inf survive as they are.
"""

from __future__ import annotations

import base64
import struct
from typing import Any

import numpy as np
import orjson

from acc.image_grid import encode_png, make_grid
from acc.step_inspector import DERIVATION_ORDER, KEY_META, StepData, StepTensorKey

FRAME_MAGIC = b"ACCF"
FRAME_CONTENT_TYPE = "application/x-acc-frame"
GRID_COLUMNS = 16
_ALIGN = 8
_IMAGE_KEYS = {StepTensorKey.BATCH_IMAGES.value}


def _png_grid(images: np.ndarray) -> tuple[bytes, dict[str, Any]]:
    grid = make_grid(images, columns=GRID_COLUMNS, padding=1)
    info = {
        "format": "png",
        "count": int(images.shape[0]),
        "columns": min(GRID_COLUMNS, int(images.shape[0])),
        "tile": [int(images.shape[-2]), int(images.shape[-1])],
        "padding": 1,
    }
    return encode_png(grid), info


def _scalars(data: StepData) -> dict[str, float | None]:
    return {
        key: (float(array) if np.isfinite(array) else None)
        for key, array in data.arrays.items()
        if array.ndim == 0
    }


def step_to_json(data: StepData, extra: dict[str, Any] | None = None) -> bytes:
    """Encode a step as JSON bytes."""
    body: dict[str, Any] = {
        "step": data.step,
        "keys": list(data.arrays),
        "nonfinite": data.nonfinite(),
        **(extra or {}),
    }
    for key, array in data.arrays.items():
        if key in _IMAGE_KEYS:
            png, info = _png_grid(array)
            body[key] = {**info, "data": base64.b64encode(png).decode("ascii")}
        elif array.ndim == 0:
            body[key] = float(array)  # orjson writes NaN/Inf as null
        else:
            body[key] = array
    return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)


def _derivations(data: StepData) -> list[tuple[str, list[str]]]:
    """The keys the frame leaves out, each with the keys it is the sum of, in derivation order."""
    known = set(data.arrays)
    plan: list[tuple[str, list[str]]] = []
    for key in DERIVATION_ORDER:
        sources = KEY_META[key].derived_from
        if key.value in known and sources[0] in known:
            plan.append((key.value, [source for source in sources if source in known]))
    return plan


def step_to_frame(data: StepData, extra: dict[str, Any] | None = None) -> bytes:
    """Encode a step as a binary frame (derivable keys left out; see `KeyMeta.derived_from`)."""
    derived = _derivations(data)
    left_out = {key for key, _ in derived}
    chunks: list[bytes] = []
    offset = 0
    tensors: dict[str, Any] = {}
    images: dict[str, Any] = {}

    def add(payload: bytes) -> int:
        nonlocal offset
        start = offset
        chunks.append(payload)
        offset += len(payload)
        pad = -offset % _ALIGN
        if pad:
            chunks.append(b"\0" * pad)
            offset += pad
        return start

    for key, array in data.arrays.items():
        if key in left_out:
            continue
        if key in _IMAGE_KEYS:
            png, info = _png_grid(array)
            images[key] = {**info, "offset": add(png), "nbytes": len(png)}
            continue
        little = array.astype(array.dtype.newbyteorder("<"), copy=False)
        tensors[key] = {
            "dtype": array.dtype.name,
            "shape": list(array.shape),
            "offset": add(little.tobytes()),
            "nbytes": little.nbytes,
        }
    header = orjson.dumps(
        {
            "step": data.step,
            "keys": list(data.arrays),
            "scalars": _scalars(data),
            "nonfinite": data.nonfinite(),
            "tensors": tensors,
            "images": images,
            "derived": derived,
            **(extra or {}),
        }
    )
    header += b" " * (-(len(header) + 8) % _ALIGN)  # the data section starts 8-byte aligned
    return b"".join([FRAME_MAGIC, struct.pack("<I", len(header)), header, *chunks])


def decode_frame(frame: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, bytes]]:
    """Decode a frame into (header, arrays incl. derived ones, image bytes); the reference for the
    TypeScript reader."""
    if frame[:4] != FRAME_MAGIC:
        raise ValueError(f"not an acc frame: starts with {frame[:4]!r}, expected {FRAME_MAGIC!r}")
    (length,) = struct.unpack("<I", frame[4:8])
    header = orjson.loads(frame[8 : 8 + length])
    base = 8 + length
    arrays = {
        key: np.frombuffer(
            frame,
            dtype=np.dtype(spec["dtype"]).newbyteorder("<"),
            count=int(np.prod(spec["shape"])),
            offset=base + spec["offset"],
        ).reshape(spec["shape"])
        for key, spec in header["tensors"].items()
    }
    for key, sources in header["derived"]:
        total = np.zeros_like(arrays[sources[0]])
        for source in sources:
            total += arrays[source]
        arrays[key] = total
    images = {
        key: frame[base + spec["offset"] : base + spec["offset"] + spec["nbytes"]]
        for key, spec in header["images"].items()
    }
    return header, arrays, images
