"""acc: a training control center for PyTorch.

`acc.attach(model, optimizer)` watches and steers your own training loop (see docs/attach.md);
`acc.Callback` is the seam every tool plugs into a loop with (docs/callbacks.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from acc.callbacks import Callback
    from acc.debugger import AttachError, Debugger, StopTraining, attach
    from acc.distributed import RankLost

__all__ = [
    "AttachError",
    "Callback",
    "Debugger",
    "RankLost",
    "StopTraining",
    "__version__",
    "attach",
]

# Where each public name lives. They are imported on first use, so `import acc` (and the `acc`
# command's help) costs no torch import.
_HOMES = {
    "attach": "acc.debugger",
    "AttachError": "acc.debugger",
    "Debugger": "acc.debugger",
    "StopTraining": "acc.debugger",
    "Callback": "acc.callbacks",
    "RankLost": "acc.distributed",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'acc' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_HOMES[name]), name)
