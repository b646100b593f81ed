"""Small engines of the kind a learner writes, one correct and some with a classic bug planted,
for the tests of ``check_engine``. Each bug is one overridden method, so what differs is plain.

* :class:`Good` — a micrograd-style engine done right: closures that add with ``+=``, an
  iterative topological order with a visited set, interior gradients reset on each call.
* :class:`Equals` — ``self.grad = ...`` where it must be ``+=``: a second use is lost.
* :class:`DoubleVisit` — a recursive topological sort without a visited set: a node reached
  along two paths runs its backward step twice.
* :class:`WrongTanh` — tanh's derivative as ``1 - x**2`` of the *input* instead of the output.
* :class:`SignSub` — ``a - b`` passes ``+upstream`` to ``b``.
* :class:`SignDiv` — ``a / b`` passes ``+a / b²`` to ``b``.
"""

from __future__ import annotations

import math
from typing import Any, Callable, List, Tuple


class Good:
    """A scalar with a gradient, built the way the lecture builds it (but right)."""

    def __init__(self, data: float, _children: Tuple[Any, ...] = (), _op: str = "") -> None:
        self.data = data
        self.grad = 0.0
        self._backward: Callable[[], None] = lambda: None
        self._prev = tuple(_children)
        self._op = _op

    def _send(self, target: Any, amount: float) -> None:
        """Add one contribution to ``target``'s gradient."""
        target.grad += amount

    def _lift(self, other: Any) -> Any:
        return other if isinstance(other, Good) else type(self)(other)

    def __add__(self, other: Any) -> Any:
        other = self._lift(other)
        out = type(self)(self.data + other.data, (self, other), "+")

        def _backward() -> None:
            self._send(self, out.grad)
            self._send(other, out.grad)
        out._backward = _backward
        return out

    def __mul__(self, other: Any) -> Any:
        other = self._lift(other)
        out = type(self)(self.data * other.data, (self, other), "*")

        def _backward() -> None:
            self._send(self, other.data * out.grad)
            self._send(other, self.data * out.grad)
        out._backward = _backward
        return out

    def __sub__(self, other: Any) -> Any:
        other = self._lift(other)
        out = type(self)(self.data - other.data, (self, other), "-")

        def _backward() -> None:
            self._send(self, out.grad)
            self._send(other, self._sub_sign() * out.grad)
        out._backward = _backward
        return out

    def _sub_sign(self) -> float:
        return -1.0

    def __truediv__(self, other: Any) -> Any:
        return self * self._lift(other) ** -1

    def __pow__(self, n: float) -> Any:
        out = type(self)(self.data**n, (self,), f"**{n}")

        def _backward() -> None:
            self._send(self, n * self.data ** (n - 1) * out.grad)
        out._backward = _backward
        return out

    def __neg__(self) -> Any:
        return self * -1.0

    def __radd__(self, other: Any) -> Any:  # other + self
        return self + other

    def __rmul__(self, other: Any) -> Any:  # other * self
        return self * other

    def __rsub__(self, other: Any) -> Any:  # other - self
        return self._lift(other) - self

    def __rtruediv__(self, other: Any) -> Any:  # other / self
        return self._lift(other) * self**-1

    def tanh(self) -> Any:
        t = math.tanh(self.data)
        out = type(self)(t, (self,), "tanh")

        def _backward() -> None:
            self._send(self, self._tanh_local(t) * out.grad)
        out._backward = _backward
        return out

    def _tanh_local(self, t: float) -> float:
        return 1.0 - t * t

    def exp(self) -> Any:
        out = type(self)(math.exp(self.data), (self,), "exp")

        def _backward() -> None:
            self._send(self, out.data * out.grad)
        out._backward = _backward
        return out

    def relu(self) -> Any:
        out = type(self)(max(0.0, self.data), (self,), "relu")

        def _backward() -> None:
            self._send(self, (1.0 if self.data > 0 else 0.0) * out.grad)
        out._backward = _backward
        return out

    def _order(self) -> List[Any]:
        """Every node below self, each after its children (iterative, with a visited set)."""
        order: List[Any] = []
        visited = set()
        stack: List[Tuple[Any, bool]] = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif node not in visited:
                visited.add(node)
                stack.append((node, True))
                stack.extend((child, False) for child in node._prev)
        return order

    def backward(self) -> None:
        order = self._order()
        for node in order:
            if node._prev:
                node.grad = 0.0  # interior nodes hold this call's gradient; leaves add up
        self.grad = 1.0
        for node in reversed(order):
            node._backward()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(data={self.data}, grad={self.grad})"


class Equals(Good):
    """``self.grad = ...`` instead of ``self.grad += ...``."""

    def _send(self, target: Any, amount: float) -> None:
        target.grad = amount


class DoubleVisit(Good):
    """A recursive topological sort with no visited set."""

    def _order(self) -> List[Any]:
        order: List[Any] = []

        def visit(node: Any) -> None:
            for child in node._prev:
                visit(child)
            order.append(node)
        visit(self)
        return order

    def backward(self) -> None:
        order = self._order()
        for node in order:
            if node._prev:
                node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


class WrongTanh(Good):
    """tanh's local derivative computed from its input instead of its output."""

    def tanh(self) -> Any:
        out = super().tanh()
        x = self.data

        def _backward() -> None:
            self._send(self, (1.0 - x**2) * out.grad)
        out._backward = _backward
        return out


class SignSub(Good):
    """``a - b`` sends ``+upstream`` to ``b``."""

    def _sub_sign(self) -> float:
        return 1.0


class SignDiv(Good):
    """``a / b`` as its own node, passing ``+a / b**2`` to ``b`` (the sign of ∂(a/b)/∂b lost)."""

    def __truediv__(self, other: Any) -> Any:
        other = self._lift(other)
        out = type(self)(self.data / other.data, (self, other), "/")

        def _backward() -> None:
            self._send(self, out.grad / other.data)
            self._send(other, self.data / other.data**2 * out.grad)
        out._backward = _backward
        return out

    def __rtruediv__(self, other: Any) -> Any:  # other / self
        return self._lift(other) / self
