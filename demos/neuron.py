"""One neuron, tanh(x1*w1 + x2*w2 + b): the forward pass, backward, every node's value and gradient.

Run: python demos/neuron.py
"""

from __future__ import annotations

from tracegrad import Value, topological_order


def build() -> Value:
    """The neuron of the classic worked example, with every node labelled."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    n = x1w1 + x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


def main() -> Value:
    o = build()
    o.backward()
    print("tanh(x1*w1 + x2*w2 + b): each node's value and gradient after o.backward()")
    print(f"{'node':>8} {'op':>6} {'data':>10} {'grad':>10}")
    for node in topological_order(o):
        op = node.op.symbol if node.op else ""
        print(f"{node.label or '·':>8} {op:>6} {node.data:>10.4f} {node.grad:>10.4f}")
    return o


if __name__ == "__main__":
    from _common import parse_args

    parse_args(__doc__, out=False)
    main()
