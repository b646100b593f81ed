"""One attention head, step by step: a query q attends to three keys k1, k2, k3 with values v1, v2, v3.

Forward: score_i = q·k_i; the softmax of the scores gives weight_i = e_i / total with
e_i = exp(score_i - m), where m is the largest score (held constant: the softmax does not depend
on it, so backprop passes it nothing); out = Σ weight_i·v_i. Backward: every chain-rule step from
out back to q, the keys and the values. The page steps through both, in these names.

Run: python demos/attention_head.py [--out FOLDER]    (writes out/attention_head/attention-steps.html)
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Dict, Optional, Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import output_dir, parse_args

from tracegrad import Value
from tracegrad.nn.attention import attention_weights, weighted_sum
from tracegrad.viz import Trace, trace


@dataclass
class Outcome:
    out: Value
    names: Dict[str, Value]
    trace: Trace
    page: str


def build(q: float = 1.0, keys: Sequence[float] = (0.5, 2.0, -1.0),
          values: Sequence[float] = (1.0, -2.0, 3.0)) -> Dict[str, Value]:
    """The head's graph, every node named as a teacher would on the blackboard: returns them by name."""
    names: Dict[str, Value] = {"q": Value(q, label="q")}
    ks = [Value(k, label=f"k{i}") for i, k in enumerate(keys, 1)]
    vs = [Value(v, label=f"v{i}") for i, v in enumerate(values, 1)]
    # one-number vectors: the score is q·k = q*k, and √d = 1 scales nothing
    scores, weights = attention_weights([names["q"]], [[k] for k in ks], fused=False)
    (out,) = weighted_sum(weights, [[v] for v in vs], fused=False)
    for i, (k, v, score, weight) in enumerate(zip(ks, vs, scores, weights), 1):
        e, total = weight.inputs  # weight_i = e_i / total
        (d,) = e.inputs  # e_i = exp(d_i)
        _, m = d.inputs  # d_i = score_i - m
        names.update({f"k{i}": k, f"v{i}": v, f"score{i}": score, f"d{i}": d, f"e{i}": e,
                      f"weight{i}": weight, "m": m, "total": total})
    for i, product in enumerate(out.inputs, 1):  # out = Σ(weight_i * v_i)
        names[f"wv{i}"] = product
    names["out"] = out
    for name, node in names.items():
        node.label = name
    return names


def main(out: Optional[str] = None, quiet: bool = False) -> Outcome:
    """Print the forward pass and backward steps, and write the step-through page."""
    folder = output_dir("attention_head", out, quiet)
    names = build()
    t = trace(names["out"])
    if not quiet:
        print(t.table())
    page = t.save_html(folder / "attention-steps.html")
    if not quiet:
        print(f"wrote {os.path.abspath(page)}")
    return Outcome(names["out"], names, t, page)


if __name__ == "__main__":
    main(parse_args(__doc__.splitlines()[0]).out)
