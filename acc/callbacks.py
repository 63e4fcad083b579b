"""`Callback`: the one seam through which anything watches or steers a training loop.

A callback is an object with named hooks, each a no-op unless overridden (as Lightning's
`Callback`). The loop calls every callback's hook in list order at the same points of a step:

    on_train_start()                 once, before the first step of a `train()` call
    on_step_start(step)              a step begins (before its batch is fetched)
    on_after_backward(info)          gradients are present; the optimizer has not stepped
    on_step_end(info)                the optimizer has stepped; a callback may block here (pause)
    on_exception(step, error)        the step raised; the loop re-raises after every callback ran
    on_train_end()                   once, after the last step of the call (also after an error)
    close()                          the callback is done for good: remove hooks, free memory

The built-in `Trainer` calls these hooks; so does any loop that drives callbacks itself. Capture,
the pause/step gate, watches, VQ monitoring and the headless summaries are callbacks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from acc.trainer import StepInfo


class Callback:
    """Base class of loop callbacks: override the hooks you need; the rest do nothing."""

    def on_train_start(self) -> None:
        """Before the first step of a stretch of training."""

    def on_step_start(self, step: int) -> None:
        """Step `step` begins (its batch is not fetched yet)."""

    def on_after_backward(self, info: StepInfo) -> None:
        """The loss is back-propagated: gradients are present, the optimizer has not stepped."""

    def on_step_end(self, info: StepInfo) -> None:
        """The optimizer has stepped: the weights are updated. May block (e.g. while paused)."""

    def on_exception(self, step: int, error: BaseException) -> None:
        """Step `step` raised `error`; the loop re-raises it once every callback has seen it."""

    def on_train_end(self) -> None:
        """After the last step of a stretch of training, whether it ended normally or not."""

    def close(self) -> None:
        """Done for good: remove hooks, free what is held. Idempotent."""


class CallbackList:
    """Calls each hook on every callback, in order. The per-step hooks call only the callbacks
    that override them: a step of a loop with many callbacks then pays for the work they do, not
    for every no-op hook."""

    def __init__(self, callbacks: Sequence[Callback]) -> None:
        self.callbacks = tuple(callbacks)
        self._step_start = _overriding(self.callbacks, "on_step_start")
        self._after_backward = _overriding(self.callbacks, "on_after_backward")
        self._step_end = _overriding(self.callbacks, "on_step_end")

    def on_train_start(self) -> None:
        for callback in self.callbacks:
            callback.on_train_start()

    def on_step_start(self, step: int) -> None:
        for hook in self._step_start:
            hook(step)

    def on_after_backward(self, info: StepInfo) -> None:
        for hook in self._after_backward:
            hook(info)

    def on_step_end(self, info: StepInfo) -> None:
        for hook in self._step_end:
            hook(info)

    def on_exception(self, step: int, error: BaseException) -> None:
        for callback in self.callbacks:
            callback.on_exception(step, error)

    def on_train_end(self) -> None:
        for callback in self.callbacks:
            callback.on_train_end()


def _overriding(callbacks: Sequence[Callback], name: str) -> tuple[Callable[..., None], ...]:
    """The bound `name` hooks of the callbacks that do not leave it as `Callback`'s no-op (an
    object that is not a `Callback` subclass, or sets the hook on itself, counts as overriding)."""
    no_op = getattr(Callback, name)
    hooks = (getattr(callback, name) for callback in callbacks)
    return tuple(hook for hook in hooks if getattr(hook, "__func__", None) is not no_op)


class LambdaCallback(Callback):
    """A callback from plain functions, one per hook you need (as Keras' `LambdaCallback`):
    `LambdaCallback(on_step_end=lambda info: print(info.step, float(info.loss)))`."""

    def __init__(
        self,
        *,
        on_step_start: Callable[[int], None] | None = None,
        on_after_backward: Callable[[StepInfo], None] | None = None,
        on_step_end: Callable[[StepInfo], None] | None = None,
        on_exception: Callable[[int, BaseException], None] | None = None,
    ) -> None:
        self._on_step_start = on_step_start
        self._on_after_backward = on_after_backward
        self._on_step_end = on_step_end
        self._on_exception = on_exception

    def on_step_start(self, step: int) -> None:
        if self._on_step_start is not None:
            self._on_step_start(step)

    def on_after_backward(self, info: StepInfo) -> None:
        if self._on_after_backward is not None:
            self._on_after_backward(info)

    def on_step_end(self, info: StepInfo) -> None:
        if self._on_step_end is not None:
            self._on_step_end(info)

    def on_exception(self, step: int, error: BaseException) -> None:
        if self._on_exception is not None:
            self._on_exception(step, error)
