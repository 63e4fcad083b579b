"""Giving freed host memory back to the operating system after a session ends."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim`, or None where the C library has none (macOS, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def release_freed_memory() -> bool:
    """Return the heap's free pages to the OS; True when the C library did so.

    A session frees hundreds of MB of small allocations (tensors, history, captures); glibc keeps
    them in its arenas, so without this the process RSS stays at its peak after a teardown (the
    soak bench measured +44 % after a 100,000-step run, +12 % with the trim)."""
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False
