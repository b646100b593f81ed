"""One short name for every Value of a graph, used by every text: the table, the page, the frames.

A labelled Value is called by its label. An unnamed one is called by the expression that made
it when that is short (``p*q``, ``tanh(n)``, a constant ``2``), otherwise by a stable numbered
name ``v7`` (7 is its place in the topological order, the ``#7`` of the pictures); an unnamed
output is ``L``. A made-up name never repeats a label or another made-up name: it then takes
the numbered form, primed until unique (``v7′``). The local partials are the op table's formula
texts with these names put in place of the op's own (:mod:`tracegrad.viz.formula`).
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Sequence, Set

from ..engine import Value
from ..engine.ops import VARIADIC, Op
from . import labels
from .formula import CALL, POWER, PRODUCT, SUM, UNARY, Term, name_term, number_term, write

SHORT = 12
"""Longest expression (in characters) that names an unnamed node; longer ones are numbered."""

ROOT_NAME = "L"
"""The name of an unlabelled output: the loss, as a teacher writes it."""

_INFIX = {"add": (" + ", SUM), "sub": (" - ", SUM), "mul": ("*", PRODUCT), "div": ("/", PRODUCT),
          "vpow": ("**", POWER)}


class Names:
    """The name of each Value of a graph (``names[v]``) and each as a formula term."""

    def __init__(self, values: Sequence[Value], number: Mapping[Value, int], root: Value, precision: int = 4) -> None:
        self.precision = precision
        taken: Set[str] = {labels.shown(v.label) for v in values if v.label}
        self.terms: Dict[Value, Term] = {}
        for v in values:
            if v.label:
                self.terms[v] = name_term(labels.shown(v.label))
                continue
            made = self._made(v, root)
            if made is None or made.text in taken:
                made = Term(_numbered(number[v], taken))
            taken.add(made.text)
            self.terms[v] = made

    def __getitem__(self, v: Value) -> str:
        return self.terms[v].text

    def _made(self, v: Value, root: Value) -> Optional[Term]:
        """The short made-up name of an unnamed Value, or None when there is none."""
        if v is root:
            return Term(ROOT_NAME)
        if v.op is None:
            text = labels.number(v.data, self.precision)
            return number_term(v.data, text) if len(text) <= 8 else None
        term = self.expression(v)
        return term if term is not None and len(term.text) <= SHORT else None

    def expression(self, v: Value, args: Optional[List[Term]] = None) -> Optional[Term]:
        """How ``v`` is computed, over its inputs' names or the terms ``args``: ``p*q + r``, ``tanh(n)``.

        None for a leaf, and for a node made with micrograd's constructor (it has no rule).
        """
        op = v.op
        if op is None:
            return None
        if args is None:
            args = [self.terms[i] for i in v.inputs]
        if op.name in _INFIX and len(args) == 2:
            symbol, strength = _INFIX[op.name]
            left = args[0].inside(strength - 1 if op.name != "vpow" else strength)
            right = _right(args[1], strength, op.name in ("sub", "div"))
            return Term(f"{left}{symbol}{right}", strength)
        if op.name == "neg":
            return Term(f"-{args[0].inside(UNARY)}", UNARY)
        if op.name == "pow":
            n = float(v.param or 0.0)
            power = {2.0: "²", 3.0: "³"}.get(n, f"**{_plain(labels.number(n, self.precision))}")
            return Term(f"{args[0].inside(POWER)}{power}", POWER)
        if op.name == "sum":
            return Term(" + ".join([args[0].inside(SUM - 1), *(_right(a, SUM, False) for a in args[1:])]), SUM)
        if op.name in ("linear", "linear_relu"):
            n = (len(args) - 1) // 2
            products = [Term(f"{w.inside(PRODUCT - 1)}*{_right(x, PRODUCT, False)}", PRODUCT)
                        for w, x in zip(args[:n], args[n:2 * n])]
            terms = [*products, args[-1]]
            total = " + ".join([terms[0].inside(SUM - 1), *(_right(t, SUM, False) for t in terms[1:])])
            return Term(total, SUM) if op.name == "linear" else Term(f"relu({total})", CALL)
        if not op.symbol or op.forward is None:  # made with micrograd's constructor: no rule to show
            return None
        extra = [] if v.param is None else [labels.number(v.param, self.precision)]
        return Term(f"{op.symbol}({', '.join([*(a.text for a in args), *extra])})", CALL)

    # --- formulas

    def formula(self, node: Value, position: int) -> str:
        """The local partial ∂node/∂input (input at ``position``) over the user's names: ``1 - o²``."""
        return self.formula_term(node, position).text

    def formula_numbers(self, node: Value, position: int) -> str:
        """The same partial with each name replaced by its number: ``1 - 0.7071²``."""
        numbers = [self.number(i.data) for i in node.inputs]
        return self._formula(node, position, self.number(node.data), numbers).text

    def formula_term(self, node: Value, position: int) -> Term:
        """:meth:`formula` as a term, to be placed inside a larger formula."""
        return self._formula(node, position, self.terms[node], [self.terms[i] for i in node.inputs])

    def number(self, x: float) -> Term:
        """A number as the texts show it, as a term."""
        return number_term(x, labels.number(x, self.precision))

    def _formula(self, node: Value, position: int, out: Term, args: List[Term]) -> Term:
        op = node.op
        assert op is not None
        if op.arity == VARIADIC:
            return _variadic(op, args, position, out)
        terms: Dict[str, Term] = dict(zip(op.input_names, args))
        terms["out"] = out
        if op.param is not None:
            p = float(node.param or 0.0)
            terms[op.param] = number_term(p, labels.number(p, self.precision))
        return write(op.formulas[position], terms)


def _variadic(op: Op, args: List[Term], position: int, out: Term) -> Term:
    """The partials of the fused ops: 1 for each term of a sum; of ``b + Σ w_i·x_i``, ``x_i``, ``w_i`` and 1;
    of its ReLU, the same times ``step(out)``."""
    if op.name in ("linear", "linear_relu"):
        n = (len(args) - 1) // 2
        partner = args[n + position] if position < n else args[position - n] if position < 2 * n else None
        if op.name == "linear":
            return partner if partner is not None else number_term(1.0, "1")
        step = Term(f"step({out.text})", CALL)
        return step if partner is None else Term(f"{partner.inside(PRODUCT - 1)}·{step.text}", PRODUCT)
    if op.name == "sum":
        return number_term(1.0, "1")
    return number_term(0.0, "0")  # a node made with micrograd's constructor: no rule, so its gradient stops here


def _right(term: Term, strength: int, ordered: bool) -> str:
    """The right operand: ``a - (b - c)``, ``a/(b*c)``, and ``2*(-3)`` rather than ``2*-3``."""
    if term.text.startswith("-"):
        return term.inside(max(strength, UNARY))
    return term.inside(strength if ordered else strength - 1)


def _numbered(n: int, taken: Set[str]) -> str:
    name = f"v{n}"
    while name in taken:
        name += "′"
    return name


def _plain(text: str) -> str:
    return f"({text})" if text.startswith("-") else text
