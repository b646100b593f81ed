"""The benchmark's workloads, written once for any engine whose Value acts like micrograd's.

micrograd's demo: an MLP(2, [16, 16, 1]) with ReLU, 100 two-moons points, the SVM max-margin
loss plus 1e-4 L2, plain SGD. Both engines get the same initial weights and the same data, and
build their graph with the very same code (:class:`ScalarMLP`), so the graphs are identical.
"""

from __future__ import annotations

import math
import random
from operator import mul
from typing import Any, Callable, List, Sequence, Tuple

SIZES = (2, 16, 16, 1)
ALPHA = 1e-4

Weights = List[List[Tuple[List[float], float]]]  # layer -> neuron -> (weights, bias)


def moons(n: int = 100, noise: float = 0.1, seed: int = 1) -> Tuple[List[List[float]], List[float]]:
    """Two interleaving half circles with Gaussian noise; labels -1 and +1."""
    rng = random.Random(seed)
    X: List[List[float]] = []
    y: List[float] = []
    for i in range(n):
        upper = i < n // 2
        k = i if upper else i - n // 2
        t = math.pi * k / (n // 2 - 1)
        if upper:
            px, py = math.cos(t), math.sin(t)
        else:
            px, py = 1.0 - math.cos(t), 0.5 - math.sin(t)
        X.append([px + rng.gauss(0.0, noise), py + rng.gauss(0.0, noise)])
        y.append(-1.0 if upper else 1.0)
    return X, y


def init_weights(sizes: Sequence[int] = SIZES, seed: int = 1337) -> Weights:
    """micrograd's initialisation: weights uniform in (-1, 1), biases 0."""
    rng = random.Random(seed)
    return [
        [([rng.uniform(-1.0, 1.0) for _ in range(nin)], 0.0) for _ in range(nout)]
        for nin, nout in zip(sizes[:-1], sizes[1:])
    ]


def tracegrad_mlp(weights: Weights, fused: bool = True) -> Any:
    """``tracegrad.nn.MLP(2, [16, 16, 1], fused=...)`` holding ``weights``: with ``fused=True``
    a node per neuron (the ReLU inside), the same numbers as :class:`ScalarMLP`, bit for bit."""
    from tracegrad.nn import MLP

    model = MLP(SIZES[0], list(SIZES[1:]), fused=fused)
    for layer, values in zip(model.layers, weights):
        for neuron, (ws, b) in zip(layer.neurons, values):
            for p, w in zip(neuron.w, ws):
                p.data = w
            neuron.b.data = b
    return model


class ScalarMLP:
    """The MLP of micrograd's demo over any scalar Value class.

    ``fused`` builds each neuron's pre-activation with ``linear(ws, xs, b)`` (one node), else
    as micrograd does, ``sum((w*x for ...), b)``: the same additions in the same order.
    """

    def __init__(self, value: Callable[[float], Any], weights: Weights, linear: Any = None) -> None:
        self.layers = [[([value(w) for w in ws], value(b)) for ws, b in layer] for layer in weights]
        self.linear = linear

    def parameters(self) -> List[Any]:
        return [p for layer in self.layers for ws, b in layer for p in (*ws, b)]

    def pre_activation(self, ws: List[Any], x: List[Any], b: Any) -> Any:
        if self.linear is not None:
            return self.linear(ws, x, b)
        return sum((wi * xi for wi, xi in zip(ws, x)), b)  # micrograd's Neuron

    def __call__(self, x: List[Any]) -> Any:
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            out = []
            for ws, b in layer:
                act = self.pre_activation(ws, x, b)
                out.append(act if i == last else act.relu())
            x = out
        return x[0]


def svm_loss(model: ScalarMLP, inputs: List[List[Any]], y: Sequence[Any]) -> Any:
    """micrograd's demo loss: mean max-margin loss plus 1e-4 times the sum of squared parameters."""
    scores = [model(x) for x in inputs]
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in model.parameters())
    return data_loss + reg_loss


def train_step(model: ScalarMLP, value: Callable[[float], Any], X: List[List[float]], y: List[float],
               lr: float) -> float:
    """One full step as micrograd's demo takes it: forward, zero_grad, backward, SGD update."""
    inputs = [[value(a) for a in row] for row in X]
    loss = svm_loss(model, inputs, y)
    params = model.parameters()
    for p in params:
        p.grad = 0.0
    loss.backward()
    for p in params:
        p.data -= lr * p.grad
    return float(loss.data)


def learning_rate(k: int, steps: int = 100) -> float:
    return 1.0 - 0.9 * k / steps


# --- the floor of an eager engine: one object per node and nothing else


_ADD, _MUL, _RELU = "+", "*", "relu"
_new = object.__new__


class MinimalValue:
    """The least an eager engine can do per node, for the table's context, not for use.

    The ops this workload needs, each written inline: one slotted object per node (no
    closures, no cycles), an iterative topological order, the chain rule inline with no op
    table, no checks, no modes, no hooks. A real engine does more than this per node, so its
    row bounds from below what an engine of this design takes on the fine-grained graph.
    """

    __slots__ = ("__weakref__", "_a", "_b", "data", "grad", "label", "op")

    def __init__(self, data: float) -> None:
        self.data = float(data)
        self.grad = 0.0
        self.label = ""
        self.op = self._a = self._b = None

    def __add__(self, other: Any) -> MinimalValue:
        if other.__class__ is not MinimalValue:
            other = MinimalValue(other)
        v = _new(MinimalValue)  # each op makes its node inline: no helper call
        v.data, v.grad, v.label, v.op, v._a, v._b = self.data + other.data, 0.0, "", _ADD, self, other
        return v

    def __mul__(self, other: Any) -> MinimalValue:
        if other.__class__ is not MinimalValue:
            other = MinimalValue(other)
        v = _new(MinimalValue)
        v.data, v.grad, v.label, v.op, v._a, v._b = self.data * other.data, 0.0, "", _MUL, self, other
        return v

    __radd__ = __add__
    __rmul__ = __mul__

    def relu(self) -> MinimalValue:
        v = _new(MinimalValue)
        v.data, v.grad, v.label, v.op, v._a, v._b = self.data if self.data > 0 else 0.0, 0.0, "", _RELU, self, None
        return v

    def backward(self) -> None:
        order: List[Any] = []
        seen = set()
        stack: List[Any] = [self]
        while stack:
            node = stack.pop()
            if node is None:  # the node below has all its inputs in order
                order.append(stack.pop())
            elif node not in seen:
                seen.add(node)
                if node.op is None:
                    order.append(node)
                    continue
                stack += (node, None)
                if node._b is not None and node._b not in seen:
                    stack.append(node._b)
                if node._a not in seen:
                    stack.append(node._a)
        self.grad = 1.0
        for node in reversed(order):
            op, g = node.op, node.grad
            if op is _ADD:
                node._a.grad += g
                node._b.grad += g
            elif op is _MUL:
                node._a.grad += node._b.data * g
                node._b.grad += node._a.data * g
            elif op is _RELU and node.data > 0:
                node._a.grad += g


# --- the plain-float limit: the same network and loss as straightforward float code


def float_forward_loss(weights: Weights, X: List[List[float]], y: List[float]) -> float:
    """The MLP and the loss in plain floats, written as a person would: the floor to beat."""
    last = len(weights) - 1
    total = 0.0
    for row, yi in zip(X, y):
        x = row
        for i, layer in enumerate(weights):
            out = []
            for ws, b in layer:
                act = b
                for w, xi in zip(ws, x):
                    act += w * xi
                out.append(act if i == last or act > 0.0 else 0.0)
            x = out
        margin = 1.0 - yi * x[0]
        total += margin if margin > 0.0 else 0.0
    reg = 0.0
    for layer in weights:
        for ws, b in layer:
            for w in ws:
                reg += w * w
            reg += b * b
    return total / len(X) + ALPHA * reg


def float_forward_loss_builtin(weights: Weights, X: List[List[float]], y: List[float]) -> float:
    """The same, with C-level builtins (``sum(map(mul, ws, x), b)``): for context."""
    last = len(weights) - 1
    total = 0.0
    for row, yi in zip(X, y):
        x = row
        for i, layer in enumerate(weights):
            if i == last:
                x = [sum(map(mul, ws, x), b) for ws, b in layer]
            else:
                x = [max(sum(map(mul, ws, x), b), 0.0) for ws, b in layer]
        margin = 1.0 - yi * x[0]
        total += margin if margin > 0.0 else 0.0
    reg = sum(w * w for layer in weights for ws, b in layer for w in (*ws, b))
    return total / len(X) + ALPHA * reg
