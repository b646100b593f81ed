"""Checking the neuron's gradients three ways: central differences, the complex step, and second
derivatives.

Run: python demos/gradients.py
"""

from __future__ import annotations

from typing import List

from tracegrad import Value, gradcheck, gradgradcheck


def neuron(x1: Value, w1: Value, x2: Value, w2: Value, b: Value) -> Value:
    """tanh(x1*w1 + x2*w2 + b), as a function of all five numbers."""
    return (x1 * w1 + x2 * w2 + b).tanh()


def main() -> List[bool]:
    point = [2.0, -3.0, 0.0, 1.0, 6.8813735870195432]
    results = [
        gradcheck(neuron, point),
        gradcheck(neuron, point, method="complex"),
        gradgradcheck(neuron, point),
    ]
    print("gradcheck (central differences):", results[0])
    print("gradcheck (complex step):       ", results[1])
    print("gradgradcheck:                  ", results[2])
    return results


if __name__ == "__main__":
    from _common import parse_args

    parse_args(__doc__, out=False)
    main()
