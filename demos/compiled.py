"""tracegrad.compile on micrograd's moons demo: the same training, eager (fused) and compiled.

Run: python demos/compiled.py
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Sequence

from tracegrad import MLP, Value, compile
from tracegrad.nn.data import moons
from tracegrad.nn.losses import hinge, l2_penalty


def main(steps: int = 100) -> Dict[str, float]:
    """Train twice from the same start; print and return each run's final loss."""
    X, y = moons(100, seed=1, signed=True)
    finals: Dict[str, float] = {}
    for label, compiled in (("eager, fused", False), ("compiled", True)):
        model = MLP(2, [16, 16, 1], rng=1337, fused=True)

        def loss(X: Sequence[Sequence[float]], y: Sequence[float], model: MLP = model) -> Value:
            scores: List[Any] = [model(list(x)) for x in X]
            return hinge(scores, y) + l2_penalty(model.parameters(), 1e-4)

        step = compile(loss, static_argnums=[1]) if compiled else None
        start = time.perf_counter()
        value = float("nan")
        for k in range(steps):
            model.zero_grad()
            if step is not None:
                value = step(X, y)
            else:
                out = loss(X, y)
                out.backward()
                value = out.data
            for p in model.parameters():
                p.data -= (1.0 - 0.9 * k / steps) * p.grad
        print(f"{label:>13}: loss {value:.6f} after {steps} steps in {time.perf_counter() - start:.2f} s")
        finals[label] = value
    return finals


if __name__ == "__main__":
    from _common import parse_args

    parse_args(__doc__, out=False)
    main()
