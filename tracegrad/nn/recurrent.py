"""Recurrent cells: a state carried from one step of a sequence to the next.

``RNNCell`` is the plain one, ``h' = tanh(W x + U h + b)``: its gradient to early steps shrinks
(or grows) by a factor at every step it passes back through. ``LSTMCell`` adds a cell state that
is carried forward by multiplying with a learned "forget" gate, so what matters can be kept for
long and its gradient with it.

>>> cell = RNNCell(1, 3, rng=0)
>>> hs = cell.run([[1.0], [0.0], [1.0]])     # the hidden state after each step
>>> len(hs), len(hs[-1])
(3, 3)
"""

from __future__ import annotations

import math
from typing import Any, List, Optional, Sequence, Tuple

from ..engine import Value, ValueLike
from .data import resolve_seed
from .linear import affine, check_size, check_vector
from .module import Module

Vector = Sequence[ValueLike]


class _Cell(Module):
    """What both cells share: ``rows`` pre-activations ``b + W_ih x + W_hh h`` per step."""

    kind = "cell"

    def __init__(self, nin: int, hidden: int, rows: int, rng: Any, fused: bool) -> None:
        check_size(type(self).__name__, "nin", nin)
        check_size(type(self).__name__, "hidden", hidden)
        source = resolve_seed(rng, "rng")
        bound = 1.0 / math.sqrt(hidden)  # PyTorch's initialisation: uniform(-1/√hidden, 1/√hidden)
        self.weight_ih = [[Value(source.uniform(-bound, bound)) for _ in range(nin)] for _ in range(rows)]
        self.weight_hh = [[Value(source.uniform(-bound, bound)) for _ in range(hidden)] for _ in range(rows)]
        self.bias = [Value(0.0) for _ in range(rows)]
        self.nin, self.hidden, self.fused = nin, hidden, bool(fused)

    def _pre_activations(self, x: Vector, h: Optional[Vector]) -> List[Value]:
        xs = check_vector(f"{self!r} (input)", x, self.nin)
        if h is None:  # the zero state: its products are all 0, so leave them out
            return [affine(w, xs, b, self.fused) for w, b in zip(self.weight_ih, self.bias)]
        hs = check_vector(f"{self!r} (state)", h, self.hidden)
        both = xs + hs
        return [affine(wi + wh, both, b, self.fused) for wi, wh, b in zip(self.weight_ih, self.weight_hh, self.bias)]

    def named_parameters(self) -> List[Tuple[str, Value]]:
        named = []
        for name, matrix in (("weight_ih", self.weight_ih), ("weight_hh", self.weight_hh)):
            named += [(f"{name}.{i}.{j}", w) for i, row in enumerate(matrix) for j, w in enumerate(row)]
        return named + [(f"bias.{i}", b) for i, b in enumerate(self.bias)]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.nin}, {self.hidden})"

    def to_torch(self) -> Any:
        """The equivalent PyTorch cell (float64) with copies of these weights; this cell's one
        bias goes into PyTorch's ``bias_ih`` and its ``bias_hh`` is 0 (they add up)."""
        from .torch_export import cell_to_torch

        return cell_to_torch(self)


class RNNCell(_Cell):
    """One step of a plain recurrent net: ``h' = tanh(W_ih x + W_hh h + b)``: PyTorch's ``nn.RNNCell``.

    Args:
        nin: the input's length.
        hidden: the state's length.
        rng: a ``random.Random``, a seed, or None for the global ``random`` module.
        fused: one ``linear`` node per unit (fast) or every product and a ``Σ`` node adding them.

    Parameters: ``weight_ih.i.j``, ``weight_hh.i.j`` and ``bias.i``, laid out as PyTorch's.
    """

    kind = "rnn"

    def __init__(self, nin: int, hidden: int, *, rng: Any = None, fused: bool = True) -> None:
        super().__init__(nin, hidden, hidden, rng, fused)
        self._label_parameters()

    def __call__(self, x: Vector, h: Optional[Vector] = None) -> List[Value]:
        """The next state, from the input and the state (None: the zero state)."""
        return [pre.tanh() for pre in self._pre_activations(x, h)]

    def run(self, xs: Sequence[Vector], h: Optional[Vector] = None) -> List[List[Value]]:
        """The state after each input of the sequence ``xs``, starting from ``h``."""
        states: List[List[Value]] = []
        state: Optional[Vector] = h
        for x in xs:
            state = self(x, state)
            states.append(state)
        return states


class LSTMCell(_Cell):
    """One step of a long short-term memory: PyTorch's ``nn.LSTMCell``.

    Gates ``i, f, o = σ(...)`` and a candidate ``g = tanh(...)``, each ``W_ih x + W_hh h + b``;
    then ``c' = f·c + i·g`` (forget some of the cell, write some new) and ``h' = o·tanh(c')``.

    Args:
        nin, hidden, rng, fused: as for :class:`RNNCell`.
        forget_bias: the forget gate's bias to start with: 1 (σ(1) ≈ 0.73) keeps most of the cell
            from the first step of training on, a common choice; PyTorch starts near 0.

    Parameters: ``weight_ih.i.j``, ``weight_hh.i.j`` and ``bias.i`` with rows in PyTorch's order,
    the gates ``i, f, g, o`` one after another (``4 * hidden`` rows).
    """

    kind = "lstm"

    def __init__(self, nin: int, hidden: int, *, rng: Any = None, fused: bool = True, forget_bias: float = 1.0) -> None:
        super().__init__(nin, hidden, 4 * hidden, rng, fused)
        if not (isinstance(forget_bias, (int, float)) and math.isfinite(forget_bias)):
            raise ValueError(f"LSTMCell: forget_bias must be a finite number, got {forget_bias!r}")
        for b in self.bias[hidden : 2 * hidden]:
            b.data = float(forget_bias)
        self._label_parameters()

    def __call__(self, x: Vector, state: Optional[Tuple[Vector, Vector]] = None) -> Tuple[List[Value], List[Value]]:
        """The next ``(h, c)``, from the input and the state (None: both zero)."""
        n = self.hidden
        pre = self._pre_activations(x, None if state is None else state[0])
        i = [p.sigmoid() for p in pre[:n]]
        f = [p.sigmoid() for p in pre[n : 2 * n]]
        g = [p.tanh() for p in pre[2 * n : 3 * n]]
        o = [p.sigmoid() for p in pre[3 * n :]]
        if state is None:
            c = [ii * gg for ii, gg in zip(i, g)]
        else:
            old = check_vector(f"{self!r} (cell state)", state[1], n)
            c = [ff * cc + ii * gg for ff, cc, ii, gg in zip(f, old, i, g)]
        return [oo * cc.tanh() for oo, cc in zip(o, c)], c

    def run(self, xs: Sequence[Vector], state: Optional[Tuple[Vector, Vector]] = None) -> List[List[Value]]:
        """The hidden state ``h`` after each input of the sequence ``xs``, starting from ``state``."""
        hs: List[List[Value]] = []
        for x in xs:
            state = self(x, state)
            hs.append(state[0])
        return hs
