"""`release_freed_memory`: freed heap pages go back to the OS."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from acc.host_memory import release_freed_memory


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc_trim")
def test_freed_fragmented_heap_memory_goes_back_after_the_trim() -> None:
    # 32 KB arrays come from the malloc heap (below its mmap threshold); keeping every 50th alive
    # fragments it, so glibc keeps the freed pages until asked to trim them.
    arrays = [np.ones(8192, dtype=np.float32) for _ in range(6000)]
    kept = arrays[::50]
    del arrays
    before = _rss_mb()
    assert release_freed_memory() is True
    after = _rss_mb()
    assert before - after > 100, (before, after)
    assert all(float(array[0]) == 1.0 for array in kept)  # what is alive is untouched
