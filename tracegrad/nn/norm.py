"""Normalising a vector: ``rmsnorm`` and ``layernorm``, and the modules that learn their gains.

Both rescale a vector to a standard size before the next layer, so that its scale does not grow
or shrink from block to block; ``layernorm`` also centres it.

>>> [round(x.data, 4) for x in rmsnorm([3.0, 4.0])]     # root mean square 3.5355...
[0.8485, 1.1314]
>>> [round(x.data, 4) for x in layernorm([1.0, 3.0])]
[-1.0, 1.0]
"""

from __future__ import annotations

import math
from typing import Any, List, Optional, Sequence, Tuple

from ..engine import Value, ValueLike, as_value, value_sum
from .linear import affine, check_size
from .module import Module

EPS = 1e-5
"""Added to the mean square (or variance) so that a vector of zeros does not divide by zero (PyTorch's default)."""


def rmsnorm(x: Sequence[ValueLike], eps: float = EPS, weight: Optional[Sequence[ValueLike]] = None,
            fused: bool = True) -> List[Value]:
    """``xᵢ / √(mean(x²) + eps)``, times ``weight[i]`` if given: PyTorch's ``rms_norm``."""
    xs = _vector("rmsnorm", x, eps, weight)
    mean_square = affine(xs, xs, None, fused) * (1.0 / len(xs)) + eps
    scale = mean_square ** -0.5
    out = [v * scale for v in xs]
    return out if weight is None else [v * w for v, w in zip(out, weight)]


def layernorm(x: Sequence[ValueLike], eps: float = EPS, weight: Optional[Sequence[ValueLike]] = None,
              bias: Optional[Sequence[ValueLike]] = None, fused: bool = True) -> List[Value]:
    """``(xᵢ - mean) / √(variance + eps)``, times ``weight[i]`` plus ``bias[i]`` if given:
    PyTorch's ``layer_norm`` (the variance divides by n, not n - 1)."""
    xs = _vector("layernorm", x, eps, weight, bias)
    inv_n = 1.0 / len(xs)
    mean = value_sum(xs) * inv_n
    centred = [v - mean for v in xs]
    scale = (affine(centred, centred, None, fused) * inv_n + eps) ** -0.5
    out = [c * scale for c in centred]
    if weight is not None:
        out = [v * w for v, w in zip(out, weight)]
    return out if bias is None else [v + b for v, b in zip(out, bias)]


def _vector(who: str, x: Sequence[ValueLike], eps: float, *params: Optional[Sequence[ValueLike]]) -> List[Value]:
    if not isinstance(x, (list, tuple)) or not x:
        raise ValueError(f"{who}: expected a non-empty list of numbers or Values, got {x!r}")
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not (0 < eps < math.inf):
        raise ValueError(f"{who}: eps must be a positive number, got {eps!r}")
    for p in params:
        if p is not None and len(p) != len(x):
            raise ValueError(f"{who}: {len(x)} inputs but {len(p)} gains or biases")
    return [as_value(v) for v in x]


class RMSNorm(Module):
    """:func:`rmsnorm` with a learned gain per component (starting at 1): PyTorch's ``nn.RMSNorm``.

    Parameters are named ``weight.i``.
    """

    def __init__(self, dim: int, eps: float = EPS, fused: bool = True) -> None:
        check_size("RMSNorm", "dim", dim)
        self.weight = [Value(1.0) for _ in range(dim)]
        self.eps = float(eps)
        self.fused = bool(fused)
        _vector("RMSNorm", [0.0], self.eps)
        self._label_parameters()

    def __call__(self, x: Sequence[ValueLike]) -> List[Value]:
        return rmsnorm(x, self.eps, self.weight, self.fused)

    def named_parameters(self) -> List[Tuple[str, Value]]:
        return [(f"weight.{i}", w) for i, w in enumerate(self.weight)]

    def __repr__(self) -> str:
        return f"RMSNorm({len(self.weight)})"

    def to_torch(self) -> Any:
        """An equivalent ``torch.nn.RMSNorm`` (float64) with these gains."""
        import torch

        from .torch_export import copy_into

        out = torch.nn.RMSNorm(len(self.weight), eps=self.eps, dtype=torch.float64)
        copy_into(out.weight, self.weight)
        return out


class LayerNorm(Module):
    """:func:`layernorm` with a learned gain (starting at 1) and bias (at 0) per component:
    PyTorch's ``nn.LayerNorm``.

    Parameters are named ``weight.i`` and ``bias.i``.
    """

    def __init__(self, dim: int, eps: float = EPS, fused: bool = True) -> None:
        check_size("LayerNorm", "dim", dim)
        self.weight = [Value(1.0) for _ in range(dim)]
        self.bias = [Value(0.0) for _ in range(dim)]
        self.eps = float(eps)
        self.fused = bool(fused)
        _vector("LayerNorm", [0.0], self.eps)
        self._label_parameters()

    def __call__(self, x: Sequence[ValueLike]) -> List[Value]:
        return layernorm(x, self.eps, self.weight, self.bias, self.fused)

    def named_parameters(self) -> List[Tuple[str, Value]]:
        return [(f"weight.{i}", w) for i, w in enumerate(self.weight)] + [
            (f"bias.{i}", b) for i, b in enumerate(self.bias)]

    def __repr__(self) -> str:
        return f"LayerNorm({len(self.weight)})"

    def to_torch(self) -> Any:
        """An equivalent ``torch.nn.LayerNorm`` (float64) with these gains and biases."""
        import torch

        from .torch_export import copy_into

        out = torch.nn.LayerNorm(len(self.weight), eps=self.eps, dtype=torch.float64)
        copy_into(out.weight, self.weight)
        copy_into(out.bias, self.bias)
        return out
