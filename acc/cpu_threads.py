"""How many CPU threads training uses.

By default every core but one: the trainer shares its machine with the API server, the archive's
writer thread and usually the browser showing the dashboard. PyTorch's CPU thread pool waits at
the end of each parallel operation for all of its threads, so a pool as large as the machine
stalls whenever any other thread takes a core: on two cores with a page open, a small model
trained up to ten times slower with two threads than with one. `acc run` uses the same default,
so a run from the CLI and the same run from the dashboard compute alike.
"""

from __future__ import annotations

import os

THREADS_ENV = "ACC_THREADS"
MAX_THREADS = 1024


def default_threads(cpu_count: int | None = None) -> int:
    """Every core but one (at least one); `cpu_count` defaults to this machine's."""
    cores = os.cpu_count() if cpu_count is None else cpu_count
    return max(1, (cores or 1) - 1)


def configured_threads() -> int:
    """`$ACC_THREADS` when set, else `default_threads()`; a bad value is a `ValueError` that
    names it and the allowed range."""
    raw = os.environ.get(THREADS_ENV)
    if raw is None or not raw.strip():
        return default_threads()
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_THREADS:
        raise ValueError(f"{THREADS_ENV} must be an integer in 1..{MAX_THREADS}, got {raw!r}")
    return value


def use_threads(threads: int) -> None:
    """Train with `threads` CPU threads from now on (process-wide: PyTorch has one pool)."""
    import torch  # here, not at the top: the CLI reads the defaults above without torch

    if not 1 <= threads <= MAX_THREADS:
        raise ValueError(f"threads must be an integer in 1..{MAX_THREADS}, got {threads}")
    torch.set_num_threads(threads)
