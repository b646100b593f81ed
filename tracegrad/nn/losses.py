"""Loss functions on Values: mse, hinge, binary and softmax cross-entropy, L2 penalty.

Each returns one Value to call ``backward()`` on; a batch loss is the mean over the batch.

>>> from tracegrad.engine import Value
>>> round(mse([Value(2.0), Value(0.0)], [1.0, 0.0]).data, 3)
0.5
"""

from __future__ import annotations

import cmath
import math
from typing import Any, Iterable, List, Sequence, Tuple, Union

from ..engine import Value, ValueLike, apply, as_value, linear, value_sum
from ..engine.ops import STOP_MAX, Op

Target = Union[int, float]


def _as_list(who: str, x: Any) -> List[Any]:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _pair(who: str, outputs: Any, targets: Any) -> tuple[List[Value], List[Any]]:
    outs, tgts = _as_list(who, outputs), _as_list(who, targets)
    if not outs:
        raise ValueError(f"{who}: the batch is empty")
    if len(outs) != len(tgts):
        raise ValueError(f"{who}: {len(outs)} outputs but {len(tgts)} targets")
    for t in tgts:
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t):
            raise ValueError(f"{who}: targets must be finite numbers, got {t!r}")
    return [as_value(o) for o in outs], tgts


def _mean(terms: List[Value]) -> Value:
    return value_sum(terms) * (1.0 / len(terms))


def mse(outputs: Union[ValueLike, Sequence[ValueLike]], targets: Union[Target, Sequence[Target]]) -> Value:
    """Mean squared error ``mean((output - target)²)``: the regression loss."""
    outs, tgts = _pair("mse", outputs, targets)
    return _mean([(o - t) ** 2 for o, t in zip(outs, tgts)])


def hinge(scores: Union[ValueLike, Sequence[ValueLike]], labels: Union[Target, Sequence[Target]],
          margin: float = 1.0) -> Value:
    """The SVM max-margin loss ``mean(relu(margin - label·score))`` for labels -1 and +1.

    A point costs nothing once it is on the right side by at least ``margin``. With the default
    margin it computes exactly what micrograd's demo writes as ``(1 + -yi*scorei).relu()``.
    """
    outs, tgts = _pair("hinge", scores, labels)
    for t in tgts:
        if t not in (-1, 1):
            raise ValueError(f"hinge: labels must be -1 or 1, got {t!r}")
    return _mean([(margin + -t * s).relu() for s, t in zip(outs, tgts)])


def _softplus(x: Any) -> Any:
    if isinstance(x, complex):
        return x + cmath.log(1 + cmath.exp(-x)) if x.real > 0 else cmath.log(1 + cmath.exp(x))
    return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))


def _sigmoid(x: Any) -> Any:
    if isinstance(x, Value):
        return x.sigmoid()
    if isinstance(x, complex):
        return 1 / (1 + cmath.exp(-x)) if x.real >= 0 else cmath.exp(x) / (1 + cmath.exp(x))
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


SOFTPLUS = Op("softplus", "softplus", 1, _softplus, lambda x, out: (_sigmoid(x),), ("1 / (1 + exp(-x))",),
              doc="log(1 + e**x), computed without overflow; its derivative is the sigmoid")
"""``softplus(x) = log(1 + eˣ)``: the op behind binary cross-entropy from logits."""


def softplus(x: ValueLike) -> Value:
    """``log(1 + eˣ)`` as one node, stable for large ``|x|``."""
    return apply(SOFTPLUS, x)


def binary_cross_entropy(logits: Union[ValueLike, Sequence[ValueLike]],
                         targets: Union[Target, Sequence[Target]]) -> Value:
    """Binary cross-entropy from logits: ``mean(softplus(z) - y·z)`` for targets in [0, 1].

    The same as ``-[y·log σ(z) + (1-y)·log(1-σ(z))]`` but never takes the log of 0, however
    large the logit.
    """
    outs, tgts = _pair("binary_cross_entropy", logits, targets)
    for t in tgts:
        if not 0 <= t <= 1:
            raise ValueError(f"binary_cross_entropy: targets must be in [0, 1], got {t!r}")
    return _mean([softplus(z) - z * t if t else softplus(z) for z, t in zip(outs, tgts)])


def shift(logits: Sequence[ValueLike], who: str = "shift") -> Tuple[List[Value], Value]:
    """The logits as Values, and their largest as a ``stop_max`` node: held constant by backward.

    Softmax and log-sum-exp subtract it so that no ``exp`` overflows. Neither depends on the
    shift, so its partials are 0 by right; and as a node of the graph (not a number read at the
    time), a compiled replay computes it afresh from the new logits.
    """
    zs = [as_value(z) for z in logits]
    if not zs:
        raise ValueError(f"{who}: no logits")
    return zs, apply(STOP_MAX, *zs)


def softmax(logits: Sequence[ValueLike]) -> List[Value]:
    """Probabilities ``e^(zᵢ-m) / Σ e^(zⱼ-m)``, shifted by the largest logit ``m`` so no exp overflows.

    >>> [round(p.data, 4) for p in softmax([1.0, 2.0, 1000.0])]
    [0.0, 0.0, 1.0]
    """
    zs, top = shift(logits, "softmax")
    exps = [(z - top).exp() for z in zs]
    total = value_sum(exps)
    return [e / total for e in exps]


def log_sum_exp(logits: Sequence[ValueLike]) -> Value:
    """``log Σ e^zᵢ`` computed as ``m + log Σ e^(zᵢ-m)`` with ``m`` the largest logit."""
    zs, top = shift(logits, "log_sum_exp")
    return value_sum([(z - top).exp() for z in zs]).log() + top


def _one_cross_entropy(logits: Sequence[ValueLike], target: Any, who: str = "softmax_cross_entropy") -> Value:
    if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target < len(logits):
        raise ValueError(f"{who}: target must be a class index in [0, {len(logits)}), got {target!r}")
    return log_sum_exp(logits) - as_value(logits[target])


def softmax_cross_entropy(logits: Sequence[Any], targets: Any) -> Value:
    """``-log softmax(z)[target]``, the multi-class loss, via log-sum-exp (never overflows).

    Pass one sample's logits and its class index, or a batch (a list of logit lists and a list
    of indices) for the mean.

    >>> round(softmax_cross_entropy([2.0, 1.0, 0.1], 0).data, 4)
    0.417
    """
    if isinstance(targets, (list, tuple)):
        if not targets:
            raise ValueError("softmax_cross_entropy: the batch is empty")
        if len(logits) != len(targets):
            raise ValueError(f"softmax_cross_entropy: {len(logits)} outputs but {len(targets)} targets")
        return _mean([_one_cross_entropy(z, t) for z, t in zip(logits, targets)])
    return _one_cross_entropy(logits, targets)


def cross_entropy(logits: Sequence[ValueLike], target: Any) -> Value:
    """PyTorch's ``cross_entropy`` of one sample: ``-log softmax(z)[target]`` for a class index,
    or ``-Σₖ pₖ log softmax(z)ₖ`` for a row of class probabilities ``p`` (a one-hot row is the same
    as its index, and makes one graph for every class, which ``compile`` needs).

    >>> round(cross_entropy([2.0, 1.0, 0.1], 0).data, 4), round(cross_entropy([2.0, 1.0, 0.1], [1, 0, 0]).data, 4)
    (0.417, 0.417)
    """
    if not isinstance(target, (list, tuple)):
        return _one_cross_entropy(logits, target, "cross_entropy")
    if len(target) != len(logits):
        raise ValueError(f"cross_entropy: {len(logits)} logits but {len(target)} class probabilities")
    zs = [as_value(z) for z in logits]
    ps = [as_value(p) for p in target]
    return value_sum(ps) * log_sum_exp(zs) - linear(ps, zs, Value(0.0))


def l2_penalty(parameters: Iterable[Value], alpha: float = 1e-4) -> Value:
    """Weight decay as a loss term: ``alpha · Σ p²`` (micrograd's demo uses alpha = 1e-4)."""
    return alpha * value_sum([p * p for p in parameters])
