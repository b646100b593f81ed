"""Optimizers: SGD (momentum, weight decay) and Adam, with PyTorch's update rules.

The learning rate is a number or a schedule: a callable of the step number (0 for the first
``step()``), such as micrograd's demo's ``lambda k: 1.0 - 0.9 * k / 100``.

>>> from tracegrad.engine import Value
>>> w = Value(3.0)
>>> opt = SGD([w], lr=0.1)
>>> for _ in range(50):
...     opt.zero_grad()
...     (w * w).backward()
...     opt.step()
>>> abs(w.data) < 1e-4
True
"""

from __future__ import annotations

import math
from typing import Callable, Dict, Iterable, List, Tuple, Union

from ..engine import Value

Schedule = Union[float, Callable[[int], float]]


class Optimizer:
    """Holds the parameters and the step count; subclasses say how a step moves them."""

    def __init__(self, parameters: Iterable[Value], lr: Schedule) -> None:
        self.parameters: List[Value] = list(parameters)
        if not self.parameters:
            raise ValueError(f"{type(self).__name__}: no parameters to optimize")
        for i, p in enumerate(self.parameters):
            if not isinstance(p, Value):
                raise TypeError(f"{type(self).__name__}: parameter {i} is a {type(p).__name__}, not a Value")
        if not callable(lr):
            _check_rate(type(self).__name__, lr)
        self.lr = lr
        self.steps = 0

    def rate(self) -> float:
        """The learning rate of the coming step."""
        lr = self.lr(self.steps) if callable(self.lr) else self.lr
        return _check_rate(f"{type(self).__name__}: the schedule at step {self.steps}", lr)

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0."""
        for p in self.parameters:
            p.grad = 0.0

    def step(self) -> None:
        """Move every parameter using its gradient; then count the step.

        Raises:
            FloatingPointError: a gradient is NaN or infinite (nothing is moved).
        """
        lr = self.rate()
        for p in self.parameters:
            if not math.isfinite(p.grad):
                name = f" {p.label!r}" if p.label else f" {self.parameters.index(p)}"
                raise FloatingPointError(f"{type(self).__name__}.step: the gradient of parameter{name} is {p.grad}")
        self._update(lr)
        self.steps += 1

    def _update(self, lr: float) -> None:
        raise NotImplementedError


def _check_rate(who: str, lr: object) -> float:
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not (0 <= lr < math.inf):
        raise ValueError(f"{who}: learning rate must be a finite number >= 0, got {lr!r}")
    return float(lr)


def _check_fraction(who: str, name: str, x: float, upper_open: bool = True) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not (0 <= x < 1 if upper_open else x >= 0):
        bound = "[0, 1)" if upper_open else ">= 0"
        raise ValueError(f"{who}: {name} must be in {bound}, got {x!r}")
    return float(x)


class SGD(Optimizer):
    """Stochastic gradient descent, as ``torch.optim.SGD``.

    ``g = grad + weight_decay·p``; with momentum ``buf = momentum·buf + g`` (``buf = g`` at the
    first step) and ``g = buf``; then ``p -= lr·g``. Without momentum or decay this is exactly
    micrograd's ``p.data -= learning_rate * p.grad``.
    """

    def __init__(self, parameters: Iterable[Value], lr: Schedule = 0.01, momentum: float = 0.0,
                 weight_decay: float = 0.0) -> None:
        super().__init__(parameters, lr)
        self.momentum = _check_fraction("SGD", "momentum", momentum)
        self.weight_decay = _check_fraction("SGD", "weight_decay", weight_decay, upper_open=False)
        self._buffers: Dict[int, float] = {}

    def _update(self, lr: float) -> None:
        for i, p in enumerate(self.parameters):
            g = p.grad
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            if self.momentum:
                buf = self._buffers.get(i)
                buf = g if buf is None else self.momentum * buf + g
                self._buffers[i] = buf
                g = buf
            p.data -= lr * g


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam``: per-parameter steps scaled by running gradient moments.

    ``m = β1·m + (1-β1)·g``, ``v = β2·v + (1-β2)·g²``, then
    ``p -= lr/(1-β1ᵗ) · m / (√v/√(1-β2ᵗ) + eps)``.
    """

    def __init__(self, parameters: Iterable[Value], lr: Schedule = 1e-3, betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(parameters, lr)
        self.betas = (_check_fraction("Adam", "betas[0]", betas[0]), _check_fraction("Adam", "betas[1]", betas[1]))
        if not (isinstance(eps, (int, float)) and 0 < eps < math.inf):
            raise ValueError(f"Adam: eps must be a positive number, got {eps!r}")
        self.eps = float(eps)
        self.weight_decay = _check_fraction("Adam", "weight_decay", weight_decay, upper_open=False)
        self._m = [0.0] * len(self.parameters)
        self._v = [0.0] * len(self.parameters)

    def _update(self, lr: float) -> None:
        b1, b2 = self.betas
        t = self.steps + 1
        step_size = lr / (1 - b1**t)
        correction2 = math.sqrt(1 - b2**t)
        for i, p in enumerate(self.parameters):
            g = p.grad
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            m = self._m[i] = b1 * self._m[i] + (1 - b1) * g
            v = self._v[i] = b2 * self._v[i] + (1 - b2) * g * g
            p.data -= step_size * m / (math.sqrt(v) / correction2 + self.eps)
