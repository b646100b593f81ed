"""``Embedding``: a learned vector per token, the first layer of a language model.

A token id picks its row of the table: the row's own parameter Values, so only the rows used get
a gradient. A one-hot row (or any weights over the vocabulary) gives ``Σ_v p_v · row_v``
instead: more work, but the same graph for every token, which is what ``compile`` needs (a
tracer records which Values were used, so a choice made by indexing cannot be replayed).

>>> table = Embedding(5, 3, rng=0)
>>> table(2) == table.weight[2]
True
>>> [round(x.data, 12) for x in table([0, 0, 1, 0, 0])] == [round(w.data, 12) for w in table.weight[2]]
True
"""

from __future__ import annotations

import math
import numbers
from typing import Any, List, Sequence, Tuple, Union

from ..engine import Value, ValueLike, as_value
from .data import resolve_seed
from .linear import affine, check_size, check_vector
from .module import Module

Token = Union[int, Sequence[ValueLike]]
"""A token id, or a row of weights over the vocabulary (a one-hot row picks one token)."""


class Embedding(Module):
    """A table of ``vocab`` learned vectors of length ``dim``: PyTorch's ``nn.Embedding``.

    Args:
        vocab: the number of tokens (ids ``0 .. vocab-1``).
        dim: the length of each vector.
        std: the rows are drawn from a normal distribution with this standard deviation (1, as
            PyTorch's).
        rng: a ``random.Random``, a seed, or None for the global ``random`` module.
        fused: for one-hot input, one ``linear`` node per output (the same numbers either way).

    Parameters are named ``weight.t.j`` (token ``t``, component ``j``).
    """

    def __init__(self, vocab: int, dim: int, *, std: float = 1.0, rng: Any = None, fused: bool = True) -> None:
        check_size("Embedding", "vocab", vocab)
        check_size("Embedding", "dim", dim)
        if not (isinstance(std, (int, float)) and math.isfinite(std) and std >= 0):
            raise ValueError(f"Embedding: std must be a finite number >= 0, got {std!r}")
        source = resolve_seed(rng, "rng")
        self.weight = [[Value(source.gauss(0.0, float(std))) for _ in range(dim)] for _ in range(vocab)]
        self.fused = bool(fused)
        self._label_parameters()

    @property
    def vocab(self) -> int:
        return len(self.weight)

    @property
    def dim(self) -> int:
        return len(self.weight[0])

    def __call__(self, token: Token) -> List[Value]:
        """The vector of a token id (its row itself), or ``Σ_v p_v · row_v`` for a row of weights."""
        if isinstance(token, numbers.Integral) and not isinstance(token, bool):
            index = int(token)
            if not 0 <= index < self.vocab:
                raise IndexError(f"{self!r}: token id must be in [0, {self.vocab}), got {token!r}")
            return list(self.weight[index])
        if isinstance(token, (list, tuple)):
            p = check_vector(f"{self!r} (a row of weights over the vocabulary)", token, self.vocab)
            return [affine([as_value(x) for x in p], column, None, self.fused) for column in self._columns()]
        raise TypeError(f"{self!r}: expected a token id or a row of {self.vocab} weights, got "
                        f"{type(token).__name__} {token!r}")

    def _columns(self) -> List[List[Value]]:
        return [list(column) for column in zip(*self.weight)]

    def named_parameters(self) -> List[Tuple[str, Value]]:
        return [(f"weight.{t}.{j}", w) for t, row in enumerate(self.weight) for j, w in enumerate(row)]

    def __repr__(self) -> str:
        return f"Embedding({self.vocab}, {self.dim})"

    def to_torch(self) -> Any:
        """An equivalent ``torch.nn.Embedding`` (float64) holding copies of these vectors."""
        import torch

        from .torch_export import copy_into

        out = torch.nn.Embedding(self.vocab, self.dim, dtype=torch.float64)
        copy_into(out.weight, self.weight)
        return out
