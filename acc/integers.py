"""Reading integers from text the strict way, for every place that takes one (queries, paths,
headers, command-line flags)."""

from __future__ import annotations

import re

# ASCII digits with an optional minus: Python's int() also takes "١٢", "１２", "1_2", "+12" and
# " 12 ", which no client means and a cache or proxy in front may read differently.
_INTEGER = re.compile(r"-?[0-9]+")


def parse_ascii_int(text: str) -> int | None:
    """`text` as an int when it is ASCII digits with an optional leading minus, else None."""
    return int(text) if _INTEGER.fullmatch(text) else None
