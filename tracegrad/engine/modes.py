"""Modes: ``no_grad`` and the hooks that anomaly mode uses, kept in a context variable.

A mode says what happens when a node is made (whether ops record their inputs, and a hook to
call) and at each chain-rule step of backward (a hook). It lives in a context variable, so it
holds for the current thread or asyncio task only. None, the default, is the fast path: the
engine reads one context variable per node and does nothing more.
"""

from __future__ import annotations

import functools
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable, List, Optional, TypeVar, cast

if TYPE_CHECKING:
    from .autodiff import Step
    from .value import Value

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Mode:
    """What happens when a node is made: whether ops record their inputs, and hooks."""

    record: bool = True
    on_node: Optional[Callable[[Value], None]] = None
    """Called with every new node (anomaly mode uses it to note where it was made)."""
    on_step: Optional[Callable[[Step], None]] = None
    """Called with every chain-rule step of backward (anomaly mode checks the gradients)."""
    constant: Optional[Callable[[float], Value]] = None
    """Makes the leaf for a number that an op lifts into the graph, the 1 of ``1 + x`` (compile
    shares one leaf per number while it traces); None: a new leaf each time."""


DEFAULT_MODE = Mode()
_mode: ContextVar[Optional[Mode]] = ContextVar("tracegrad_mode", default=None)
mode_or_none = _mode.get
"""The mode in force, or None for the default (the engine's fast path tests for None)."""


def current_mode() -> Mode:
    """The mode in force in this thread or task."""
    return mode_or_none() or DEFAULT_MODE


class mode_context:
    """Context manager that sets fields of the current :class:`Mode` (and restores them).

    Context variables keep it per thread and per asyncio task.
    """

    def __init__(self, **changes: Any) -> None:
        self._changes = changes
        self._tokens: List[Any] = []

    def __enter__(self) -> mode_context:
        new = replace(current_mode(), **self._changes)
        self._tokens.append(_mode.set(None if new == DEFAULT_MODE else new))
        return self

    def __exit__(self, *exc: object) -> None:
        _mode.reset(self._tokens.pop())


class no_grad(mode_context):
    """Inside it, ops compute values but record no inputs: results are leaves.

    A context manager (``with no_grad(): ...``) and a decorator (``@no_grad()`` or
    ``@no_grad``). The setting lives in a context variable, so it holds for the current thread
    or asyncio task only.
    """

    def __new__(cls, func: Optional[Callable[..., Any]] = None) -> Any:
        if func is not None:
            return cls()(func)
        return super().__new__(cls)

    def __init__(self, func: Optional[Callable[..., Any]] = None) -> None:
        super().__init__(record=False)

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with no_grad():
                return func(*args, **kwargs)

        return cast(F, wrapper)


def is_grad_enabled() -> bool:
    """Whether ops record their inputs here (False inside :class:`no_grad`)."""
    return current_mode().record
