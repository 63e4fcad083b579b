"""Step data on the wire: JSON for people and curl, a binary frame for the dashboard.

JSON: every array as nested lists (NaN/Inf become `null` and are counted under `nonfinite`),
`batch_images` as a base64 PNG grid. Frame: `b"ACCF"`, a little-endian u32 header length, the
JSON header, then the raw little-endian array bytes, each starting on an 8-byte boundary so the
browser can wrap them in typed-array views without copying; NaN and Inf survive as they are.

Both hold at most `FRAME_BUDGET` bytes of tensors, smallest first; the header lists the rest under
`deferred`, and a view reads one of them through `reduce_grid` at the size it draws it
(`grid_to_frame` / `grid_to_json`).
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from acc.image_grid import encode_png, make_grid
from acc.step_inspector import DERIVATION_ORDER, KEY_META, StepData, StepTensorKey

FRAME_MAGIC = b"ACCF"
FRAME_CONTENT_TYPE = "application/x-acc-frame"
# A step's frame for the views holds at most this many bytes; what does not fit is listed under
# `deferred` and read per tensor, reduced to what the view draws (`reduce_grid`).
FRAME_BUDGET = 1 << 20
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


def step_to_json(
    data: StepData, extra: dict[str, Any] | None = None, budget: int | None = FRAME_BUDGET
) -> bytes:
    """Encode a step as JSON bytes: the keys the binary frame carries (its derived keys written
    out; None: all), the rest listed under `deferred` ({key: {dtype, shape, nbytes}}) to be read
    per tensor."""
    plan = _plan(data, budget)
    chosen = set(plan.chosen) | {key for key, _ in _derivations(data, set(plan.chosen))}
    body: dict[str, Any] = {
        "step": data.step,
        "keys": list(data.arrays),
        "nonfinite": data.nonfinite(),
        "deferred": {
            key: {"dtype": array.dtype.name, "shape": list(array.shape), "nbytes": array.nbytes}
            for key, array in data.arrays.items()
            if key not in chosen
        },
        **(extra or {}),
    }
    for key, array in data.arrays.items():
        if key not in chosen:
            continue
        if key in plan.pictures:
            png, info = plan.pictures[key]
            body[key] = {**info, "data": base64.b64encode(png).decode("ascii")}
        elif array.ndim == 0:
            body[key] = float(array)  # orjson writes NaN/Inf as null
        else:
            body[key] = array
    return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)


def _derivations(data: StepData, sent: set[str]) -> list[tuple[str, list[str]]]:
    """The derivable keys whose sources are all sent (or derived), each with the keys it is the
    sum of, in derivation order."""
    known = set(sent)
    plan: list[tuple[str, list[str]]] = []
    for key in DERIVATION_ORDER:
        declared = KEY_META[key].derived_from
        sources = [source for source in declared if source in data.arrays]
        # The first source must be held: the sum starts from it (its shape and dtype).
        held = key.value in data.arrays and declared[0] in data.arrays
        if held and all(source in known for source in sources):
            plan.append((key.value, sources))
            known.add(key.value)
    return plan


def _derivable(data: StepData) -> set[str]:
    """The keys a frame can leave out when their sources are in it."""
    return {key for key, _ in _derivations(data, set(data.arrays))}


@dataclass
class _Plan:
    """What a step's frame carries: `chosen` keys (derivable ones excepted), each key's size in
    the frame, and the encoded pictures (the batch grid)."""

    chosen: list[str]
    sizes: dict[str, int]
    pictures: dict[str, tuple[bytes, dict[str, Any]]]


def _plan(data: StepData, budget: int | None) -> _Plan:
    """The keys a frame of at most `budget` bytes carries (None: all): the smallest first while
    they fit; among equal sizes the sources of derivable keys first (they bring their sums along
    for free), then capture order."""
    derivable = _derivable(data)
    pictures = {key: _png_grid(data.arrays[key]) for key in _IMAGE_KEYS if key in data.arrays}
    sizes = {
        key: len(pictures[key][0]) if key in pictures else int(array.nbytes)
        for key, array in data.arrays.items()
        if key not in derivable
    }
    if budget is None:
        return _Plan(list(sizes), sizes, pictures)
    sources = {s for key in DERIVATION_ORDER for s in KEY_META[key].derived_from}
    position = {key: index for index, key in enumerate(data.arrays)}
    order = sorted(sizes, key=lambda key: (sizes[key], key not in sources, position[key]))
    chosen: list[str] = []
    total = 0
    for key in order:
        cost = sizes[key] + _ALIGN
        if data.arrays[key].ndim and total + cost > budget:
            break
        chosen.append(key)
        total += cost
    return _Plan(chosen, sizes, pictures)


def _encode(data: StepData, key: str, plan: _Plan) -> tuple[bytes, dict[str, Any], bool]:
    """A key's bytes in the frame, its header entry (without offset) and whether it is an image."""
    if key in plan.pictures:
        png, info = plan.pictures[key]
        return png, {**info, "nbytes": len(png)}, True
    array = data.arrays[key]
    little = array.astype(array.dtype.newbyteorder("<"), copy=False)
    spec = {"dtype": array.dtype.name, "shape": list(array.shape), "nbytes": little.nbytes}
    return little.tobytes(), spec, False


def step_to_frame(
    data: StepData, extra: dict[str, Any] | None = None, budget: int | None = FRAME_BUDGET
) -> bytes:
    """Encode a step as a binary frame of at most `budget` bytes (None: every tensor). Keys that
    do not fit are listed under `deferred` ({key: {dtype, shape, nbytes}}); derivable keys are
    left out and listed under `derived` when their sources are in the frame (see
    `KeyMeta.derived_from`), else deferred too."""
    plan = _plan(data, budget)
    chosen = list(plan.chosen)
    encoded = {key: _encode(data, key, plan) for key in chosen}
    while True:
        frame = _frame(data, extra, encoded, chosen)
        tensors = [key for key in chosen if data.arrays[key].ndim]
        if budget is None or len(frame) <= budget or not tensors:
            return frame
        # The header did not leave room: the largest tensor goes too.
        chosen.remove(max(tensors, key=lambda key: plan.sizes[key]))


def _frame(
    data: StepData,
    extra: dict[str, Any] | None,
    encoded: dict[str, tuple[bytes, dict[str, Any], bool]],
    chosen: list[str],
) -> bytes:
    sent = set(chosen)
    derived = _derivations(data, sent)
    in_frame = sent | {key for key, _ in derived}
    chunks: list[bytes] = []
    offset = 0
    tensors: dict[str, Any] = {}
    images: dict[str, Any] = {}
    deferred: dict[str, Any] = {}
    for key, array in data.arrays.items():  # capture order, as the header always listed them
        if key in in_frame and key not in sent:
            continue  # derived on the reader's side
        if key not in in_frame:
            deferred[key] = {
                "dtype": array.dtype.name,
                "shape": list(array.shape),
                "nbytes": int(array.nbytes),
            }
            continue
        payload, spec, is_image = encoded[key]
        (images if is_image else tensors)[key] = {**spec, "offset": offset}
        chunks.append(payload)
        offset += len(payload)
        pad = -offset % _ALIGN
        if pad:
            chunks.append(b"\0" * pad)
            offset += pad
    header = orjson.dumps(
        {
            "step": data.step,
            "keys": list(data.arrays),
            "scalars": _scalars(data),
            "nonfinite": data.nonfinite(),
            "tensors": tensors,
            "images": images,
            "derived": derived,
            "deferred": deferred,
            **(extra or {}),
        }
    )
    return _pack(header, chunks)


def _pack(header: bytes, chunks: list[bytes]) -> bytes:
    header += b" " * (-(len(header) + 8) % _ALIGN)  # the data section starts 8-byte aligned
    return b"".join([FRAME_MAGIC, struct.pack("<I", len(header)), header, *chunks])


def grid_to_frame(grid: dict[str, Any]) -> bytes:
    """A reduced tensor (`reduce_grid`'s answer) as a frame: its fields in the header, `min`,
    `max` and `mean` as [rows, cols] float32 tensors (only `mean` when the grid is exact: every
    cell is one element, so min = max = mean)."""
    names = ("mean",) if grid["exact"] else ("min", "max", "mean")
    header = {key: value for key, value in grid.items() if key not in ("min", "max", "mean")}
    chunks: list[bytes] = []
    tensors: dict[str, Any] = {}
    offset = 0
    for name in names:
        array = np.ascontiguousarray(grid[name], dtype="<f4")
        tensors[name] = {
            "dtype": "float32",
            "shape": list(array.shape),
            "offset": offset,
            "nbytes": array.nbytes,
        }
        chunks.append(array.tobytes())
        offset += array.nbytes  # float32: every length is a multiple of 4; pad to 8
        if offset % _ALIGN:
            chunks.append(b"\0" * (-offset % _ALIGN))
            offset += -offset % _ALIGN
    return _pack(orjson.dumps({**header, "tensors": tensors}), chunks)


def grid_to_json(grid: dict[str, Any]) -> bytes:
    """A reduced tensor as JSON (NaN and infinities as null), for curl."""
    body = {
        key: np.ascontiguousarray(value) if isinstance(value, np.ndarray) else value
        for key, value in grid.items()
    }  # an exact window is a strided view, which orjson only writes contiguous
    return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)


def decode_frame(frame: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, bytes]]:
    """Decode a frame into (header, arrays incl. derived ones, image bytes); the reference for the
    TypeScript reader. The keys under `header["deferred"]` are not in it (read them per tensor);
    a grid frame (`grid_to_frame`) decodes to its `min`/`max`/`mean` arrays."""
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
    for key, sources in header.get("derived", []):
        total = np.zeros_like(arrays[sources[0]])
        for source in sources:
            total += arrays[source]
        arrays[key] = total
    images = {
        key: frame[base + spec["offset"] : base + spec["offset"] + spec["nbytes"]]
        for key, spec in header.get("images", {}).items()
    }
    return header, arrays, images
