"""Attention, and the transformer block built around it.

One query ``q`` attends to keys ``k1, k2, ...`` and their values ``v1, v2, ...``: each key gets a
score ``q·k / √d``, the softmax of the scores gives weights that add up to 1, and the output is
the weighted sum of the values. The query sees only the keys it is given, so a model that passes
each position the keys of the positions up to it is causal by construction: nothing is masked,
because nothing later is there to mask.

>>> q, ks, vs = [1.0], [[0.0], [2.0]], [[10.0], [20.0]]
>>> scores, weights = attention_weights(q, ks)
>>> [round(w.data, 4) for w in weights]                 # e^0 / (e^0 + e^2), e^2 / (e^0 + e^2)
[0.1192, 0.8808]
>>> round(attention(q, ks, vs)[0].data, 4)               # 0.1192·10 + 0.8808·20
18.808
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from ..engine import Value, ValueLike, as_value
from .data import resolve_seed
from .linear import Linear, affine, check_size, check_vector, dot
from .losses import softmax
from .module import Module
from .norm import EPS, LayerNorm, RMSNorm

Vector = Sequence[ValueLike]


def attention_weights(q: Vector, ks: Sequence[Vector], scale: Optional[float] = None,
                      fused: bool = True) -> Tuple[List[Value], List[Value]]:
    """The scores ``q·kᵢ · scale`` (``scale`` is ``1/√d`` unless given) and their softmax, the weights."""
    if not ks:
        raise ValueError("attention: no keys to attend to (a query needs at least one key, e.g. its own)")
    for i, k in enumerate(ks):
        if len(k) != len(q):
            raise ValueError(f"attention: the query has {len(q)} components but key {i} has {len(k)}")
    factor = 1.0 / math.sqrt(len(q)) if scale is None else float(scale)
    scores = [dot(q, k, fused) for k in ks]
    if factor != 1.0:  # x * 1.0 is x: leave the node out of the picture
        constant = Value(factor)  # one leaf for all the scores
        scores = [s * constant for s in scores]
    return scores, softmax(scores)


def weighted_sum(weights: Sequence[ValueLike], vs: Sequence[Vector], fused: bool = True) -> List[Value]:
    """``Σᵢ weightsᵢ · vᵢ``, component by component."""
    if len(weights) != len(vs) or not vs:
        raise ValueError(f"attention: {len(weights)} weights for {len(vs)} values")
    width = len(vs[0])
    for i, v in enumerate(vs):
        if len(v) != width:
            raise ValueError(f"attention: value 0 has {width} components but value {i} has {len(v)}")
    ws = [as_value(w) for w in weights]
    return [affine(ws, [v[j] for v in vs], None, fused) for j in range(width)]


def attention(q: Vector, ks: Sequence[Vector], vs: Sequence[Vector], scale: Optional[float] = None,
              fused: bool = True) -> List[Value]:
    """One query attending to the keys ``ks`` with values ``vs``: ``Σᵢ softmax(q·k/√d)ᵢ · vᵢ``.

    Causal by construction: the query sees exactly the keys given (a model passes the prefix).
    """
    if len(ks) != len(vs):
        raise ValueError(f"attention: {len(ks)} keys but {len(vs)} values")
    return weighted_sum(attention_weights(q, ks, scale, fused)[1], vs, fused)


Norm = Union[RMSNorm, LayerNorm]

NORMS: Dict[str, Callable[[int, float, bool], Norm]] = {"rms": RMSNorm, "layer": LayerNorm}
"""The normalisations a block can use: ``"rms"`` (:class:`RMSNorm`) or ``"layer"`` (:class:`LayerNorm`)."""


class Cache:
    """The keys and values a block has seen so far, per head: what the next position attends to."""

    def __init__(self, heads: int) -> None:
        self.keys: List[List[List[Value]]] = [[] for _ in range(heads)]
        self.values: List[List[List[Value]]] = [[] for _ in range(heads)]

    def __len__(self) -> int:
        return len(self.keys[0])


class TransformerBlock(Module):
    """A pre-norm transformer block: causal multi-head self-attention, then a ReLU MLP, each
    added back onto its input (``x + attn(norm(x))``, then ``x + mlp(norm(x))``).

    Args:
        dim: the width of the vectors it reads and writes.
        heads: the number of attention heads; ``dim`` must divide by it.
        hidden: the MLP's width (default ``4 * dim``).
        norm: ``"rms"`` or ``"layer"`` (see :data:`NORMS`).
        bias: whether the linear maps have biases.
        rng: a ``random.Random``, a seed, or None for the global ``random`` module.
        fused: one node per dot product (fast) or every product and a ``Σ`` node adding them.

    Parameters: ``norm1.*``, ``query.*``, ``key.*``, ``value.*``, ``proj.*`` (attention),
    ``norm2.*``, ``fc1.*``, ``fc2.*`` (the MLP), each a :class:`Linear` or a norm.
    """

    def __init__(self, dim: int, heads: int = 1, *, hidden: Optional[int] = None, norm: str = "rms",
                 bias: bool = False, rng: Any = None, fused: bool = True, eps: float = EPS) -> None:
        check_size("TransformerBlock", "dim", dim)
        check_size("TransformerBlock", "heads", heads)
        if dim % heads:
            raise ValueError(f"TransformerBlock: dim={dim} must divide by heads={heads}")
        if norm not in NORMS:
            raise ValueError(f"TransformerBlock: unknown norm {norm!r}; choose from {sorted(NORMS)}")
        hidden = 4 * dim if hidden is None else check_size("TransformerBlock", "hidden", hidden)
        self.dim, self.heads, self.norm, self.fused = dim, heads, norm, bool(fused)
        self.eps = float(eps)
        source = resolve_seed(rng, "rng")  # one generator for all the parts: each draws new weights

        def linear(nin: int, nout: int) -> Linear:
            return Linear(nin, nout, bias=bias, rng=source, fused=fused)

        self.norm1 = NORMS[norm](dim, self.eps, fused)
        self.query, self.key, self.value = linear(dim, dim), linear(dim, dim), linear(dim, dim)
        self.proj = linear(dim, dim)
        self.norm2 = NORMS[norm](dim, self.eps, fused)
        self.fc1, self.fc2 = linear(dim, hidden), linear(hidden, dim)
        self._label_parameters()

    def parts(self) -> List[Tuple[str, Module]]:
        """The sub-modules by name, in parameter order."""
        return [("norm1", self.norm1), ("query", self.query), ("key", self.key), ("value", self.value),
                ("proj", self.proj), ("norm2", self.norm2), ("fc1", self.fc1), ("fc2", self.fc2)]

    def named_parameters(self) -> List[Tuple[str, Value]]:
        return [(f"{part}.{name}", p) for part, module in self.parts() for name, p in module.named_parameters()]

    def new_cache(self) -> Cache:
        """An empty cache, for the first position of a sequence."""
        return Cache(self.heads)

    def step(self, x: Vector, cache: Cache) -> List[Value]:
        """The block's output at the next position: ``x`` attends to itself and every position in
        ``cache`` (which this call extends with its own key and value)."""
        xs = check_vector(repr(self), x, self.dim)
        h = self.norm1(xs)
        q, k, v = self.query(h), self.key(h), self.value(h)
        size = self.dim // self.heads
        mixed: List[Value] = []
        for head in range(self.heads):
            part = slice(head * size, (head + 1) * size)
            cache.keys[head].append(k[part])
            cache.values[head].append(v[part])
            mixed += attention(q[part], cache.keys[head], cache.values[head], fused=self.fused)
        xs = [a + b for a, b in zip(xs, self.proj(mixed))]
        hidden = [u.relu() for u in self.fc1(self.norm2(xs))]
        return [a + b for a, b in zip(xs, self.fc2(hidden))]

    def __call__(self, xs: Sequence[Vector]) -> List[List[Value]]:
        """The outputs at every position of a sequence; position t sees positions 0..t only."""
        cache = self.new_cache()
        return [self.step(x, cache) for x in xs]

    def __repr__(self) -> str:
        return f"TransformerBlock(dim={self.dim}, heads={self.heads}, norm={self.norm!r})"

    def to_torch(self) -> Any:
        """An equivalent PyTorch module (float64) with copies of these weights: it maps a
        ``(batch, time, dim)`` tensor to one of the same shape, with a causal mask."""
        from .torch_export import block_to_torch

        return block_to_torch(self)
