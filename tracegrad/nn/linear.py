"""``Linear`` (``y = W x + b``) and the dot product, the affine maps the sequence blocks are made of.

Each output is ``b_i + Σ_j W_ij x_j``: with ``fused=True`` (the default) one ``linear`` node of
the graph; with ``fused=False`` every product and a ``Σ`` node adding them, which is more to
draw and the same number, bit for bit.

>>> layer = Linear(3, 2, rng=0)
>>> [name for name, _ in layer.named_parameters()][:4]
['weight.0.0', 'weight.0.1', 'weight.0.2', 'weight.1.0']
>>> len(layer([1.0, 2.0, 3.0]))
2
"""

from __future__ import annotations

import math
from typing import Any, List, Optional, Sequence, Tuple

from ..engine import Value, ValueLike, as_value, linear, value_sum
from .data import resolve_seed
from .module import Module


def affine(ws: Sequence[Value], xs: Sequence[ValueLike], b: Optional[Value], fused: bool = True) -> Value:
    """``b + w0*x0 + w1*x1 + ...`` (``w0*x0 + ...`` without a bias): one ``linear`` node if
    ``fused``, else every product and one ``Σ`` node adding them (the same number, bit for bit)."""
    if fused:
        if b is None:  # the first product as the bias: no constant 0 to carry (and compile to replay)
            first = ws[0] * xs[0]
            return first if len(ws) == 1 else linear(ws[1:], xs[1:], first)
        return linear(ws, xs, b)
    terms = [w * x for w, x in zip(ws, xs)]
    return value_sum(terms if b is None else [b, *terms])


def dot(a: Sequence[ValueLike], b: Sequence[ValueLike], fused: bool = True) -> Value:
    """``a0*b0 + a1*b1 + ...`` over two vectors of the same length (one node if ``fused``)."""
    if len(a) != len(b) or not a:
        raise ValueError(f"dot: vectors of lengths {len(a)} and {len(b)}; they must be equal and not empty")
    return affine([as_value(x) for x in a], b, None, fused)


def check_vector(who: str, x: Any, n: int) -> List[Any]:
    """``x`` as a list of ``n`` numbers or Values, or a ValueError naming ``who`` and what came."""
    if not isinstance(x, (list, tuple)):
        raise TypeError(f"{who}: expected a list of {n} numbers or Values, got {type(x).__name__} {x!r}")
    if len(x) != n:
        raise ValueError(f"{who}: expected {n} inputs, got {len(x)}")
    return list(x)


def check_size(who: str, name: str, n: Any) -> int:
    """A positive int, or a ValueError naming the block and the argument."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{who}: {name} must be a positive int, got {n!r}")
    return n


class Linear(Module):
    """``nout`` outputs ``b_i + Σ_j W_ij x_j`` of ``nin`` inputs: PyTorch's ``nn.Linear``.

    Args:
        nin, nout: the number of inputs and outputs.
        bias: whether to add a bias (starting at 0).
        std: weights are drawn from a normal distribution with this standard deviation
            (default ``1/√nin``, which keeps the outputs' scale near the inputs').
        rng: a ``random.Random``, a seed, or None for the global ``random`` module.
        fused: one ``linear`` node per output (fast) or every product and a ``Σ`` node (every
            multiplication in the picture); the same numbers either way.

    Parameters are named ``weight.i.j`` (row ``i`` is output ``i``, as in PyTorch) and ``bias.i``.
    """

    def __init__(self, nin: int, nout: int, *, bias: bool = True, std: Optional[float] = None,
                 rng: Any = None, fused: bool = True) -> None:
        check_size("Linear", "nin", nin)
        check_size("Linear", "nout", nout)
        source = resolve_seed(rng, "rng")
        scale = 1.0 / math.sqrt(nin) if std is None else float(std)
        if not (math.isfinite(scale) and scale >= 0):
            raise ValueError(f"Linear: std must be a finite number >= 0, got {std!r}")
        self.weight = [[Value(source.gauss(0.0, scale)) for _ in range(nin)] for _ in range(nout)]
        self.bias: Optional[List[Value]] = [Value(0.0) for _ in range(nout)] if bias else None
        self.fused = bool(fused)
        self._label_parameters()

    @property
    def nin(self) -> int:
        return len(self.weight[0])

    @property
    def nout(self) -> int:
        return len(self.weight)

    def __call__(self, x: Sequence[ValueLike]) -> List[Value]:
        xs = check_vector(repr(self), x, self.nin)
        bias: Sequence[Optional[Value]] = self.bias or [None] * self.nout
        return [affine(row, xs, b, self.fused) for row, b in zip(self.weight, bias)]

    def named_parameters(self) -> List[Tuple[str, Value]]:
        named = [(f"weight.{i}.{j}", w) for i, row in enumerate(self.weight) for j, w in enumerate(row)]
        return named + [(f"bias.{i}", b) for i, b in enumerate(self.bias or [])]

    def __repr__(self) -> str:
        return f"Linear({self.nin}, {self.nout}{'' if self.bias else ', bias=False'})"

    def to_torch(self) -> Any:
        """An equivalent ``torch.nn.Linear`` (float64) holding copies of these weights."""
        import torch

        from .torch_export import copy_into

        out = torch.nn.Linear(self.nin, self.nout, bias=self.bias is not None, dtype=torch.float64)
        copy_into(out.weight, self.weight)
        if self.bias is not None:
            copy_into(out.bias, self.bias)
        return out
