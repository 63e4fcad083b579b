"""acc: a training control center for PyTorch."""

from __future__ import annotations

__version__ = "0.1.0"
