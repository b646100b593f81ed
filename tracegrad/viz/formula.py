"""An op's formula text written over the user's names: ``1 - out**2`` becomes ``1 - o²``.

The op table keeps each local partial as text over the op's own input names (``x``, ``y``,
``out``, a parameter such as ``n``). Here that text is parsed by the engine's whitelisted parser
and written out again with every name replaced by a :class:`Term` (the user's name of the input,
or its number), on the parsed form: a name is never replaced inside another one, and a
substituted term gets parentheses exactly where the precedence of its place needs them
(``(p*q)²``, ``1 - (-0.5)²``). Constant parts fold (``3 * x**(3 - 1)`` becomes ``3·p²``).
"""

from __future__ import annotations

import ast
import math
import operator
import re
from dataclasses import dataclass
from typing import Callable, Dict, Mapping, Optional

from ..engine.expr import parse
from ..engine.generic import FORMULA_FUNCTIONS

ATOM = 100
CALL = 90
POWER = 80
UNARY = 70
PRODUCT = 60
SUM = 50
COMPARE = 40
CONDITIONAL = 30
LOOSE = 0
"""Binding strengths: a term is written in parentheses where its place binds tighter than it does."""

_SIMPLE = re.compile(r"^[\w.′']+$")
_NUMBER = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?$|^-?inf$|^nan$")
_SUPERSCRIPTS = {2: "²", 3: "³"}


@dataclass(frozen=True)
class Term:
    """A piece of formula text and how strongly it binds (``p*q`` binds as a product)."""

    text: str
    strength: int = ATOM
    value: Optional[float] = None
    """Its number, when it is one (constant parts of a formula fold)."""

    def inside(self, strength: int) -> str:
        """The text in a place that binds with ``strength``: in parentheses if it binds more loosely."""
        return self.text if self.strength > strength else f"({self.text})"


def name_term(name: str, strength: Optional[int] = None) -> Term:
    """A name as a term: a plain word binds as an atom, anything else as loosely as can be."""
    if strength is not None:
        return Term(name, strength)
    if _NUMBER.match(name):
        return Term(name, UNARY if name.startswith("-") else ATOM)
    return Term(name, ATOM if _SIMPLE.match(name) else LOOSE)


def number_term(x: float, text: str) -> Term:
    """A number as a term (``-3`` binds as a unary minus)."""
    return Term(text, UNARY if text.startswith("-") else ATOM, x)


def _number(x: float) -> Term:
    text = str(int(x)) if x.is_integer() and abs(x) < 1e15 else f"{x:.4g}"
    return number_term(x, text)


_BINARY = {ast.Add: ("+", SUM), ast.Sub: ("-", SUM), ast.Mult: ("·", PRODUCT), ast.Div: ("/", PRODUCT),
           ast.Pow: ("**", POWER)}
_COMPARE = {ast.Gt: ">", ast.GtE: "≥", ast.Lt: "<", ast.LtE: "≤"}
_FOLD: Dict[type, Callable[[float, float], float]] = {ast.Add: operator.add, ast.Sub: operator.sub,
                                                     ast.Mult: operator.mul}


def instantiate(formula: str, terms: Mapping[str, Term]) -> str:
    """``formula`` (op-table text) with each of its names replaced by its term.

    >>> instantiate("1 - out**2", {"out": Term("o")})
    '1 - o²'
    >>> instantiate("n * x**(n - 1)", {"x": Term("p"), "n": Term("3", value=3.0)})
    '3·p²'

    Raises:
        KeyError: the formula uses a name that has no term (a bug of the caller: the op's names
            are all given).
    """
    return write(formula, terms).text


def write(formula: str, terms: Mapping[str, Term]) -> Term:
    """:func:`instantiate` as a term, to be placed inside a larger formula."""
    return _write(parse(formula, FORMULA_FUNCTIONS).body, terms)


def _write(node: ast.AST, terms: Mapping[str, Term]) -> Term:
    if isinstance(node, ast.Constant):
        return _number(float(node.value))  # type: ignore[arg-type]
    if isinstance(node, ast.Name):
        return terms[node.id]
    if isinstance(node, ast.UnaryOp):
        inner = _write(node.operand, terms)
        if isinstance(node.op, ast.UAdd):
            return inner
        if inner.value is not None:
            return _number(-inner.value)
        return Term(f"-{inner.inside(UNARY)}", UNARY)
    if isinstance(node, ast.BinOp):
        return _binary(node, _write(node.left, terms), _write(node.right, terms))
    if isinstance(node, ast.Call):
        args = ", ".join(_write(a, terms).text for a in node.args)
        return Term(f"{node.func.id}({args})", CALL)  # type: ignore[attr-defined]
    if isinstance(node, ast.Compare):
        left, right = _write(node.left, terms), _write(node.comparators[0], terms)
        return Term(f"{left.inside(COMPARE)} {_COMPARE[type(node.ops[0])]} {right.inside(COMPARE)}", COMPARE)
    if isinstance(node, ast.IfExp):
        body, test, orelse = (_write(n, terms) for n in (node.body, node.test, node.orelse))
        return Term(f"{body.inside(CONDITIONAL)} if {test.inside(CONDITIONAL)} else {orelse.inside(LOOSE)}",
                    CONDITIONAL)
    raise ValueError(f"formula: cannot write {type(node).__name__}")  # parse() admits nothing else


def _binary(node: ast.BinOp, left: Term, right: Term) -> Term:
    kind = type(node.op)
    if left.value is not None and right.value is not None and kind in _FOLD:
        folded = _FOLD[kind](left.value, right.value)
        if math.isfinite(folded):
            return _number(folded)
    symbol, strength = _BINARY[kind]
    if kind is ast.Pow:
        if right.value is not None and right.value.is_integer() and int(right.value) in _SUPERSCRIPTS:
            return Term(f"{left.inside(POWER)}{_SUPERSCRIPTS[int(right.value)]}", POWER)
        if right.value == 1.0:
            return left
        return Term(f"{left.inside(POWER)}**{right.inside(POWER - 1)}", POWER)
    if kind is ast.Mult and (left.value == 1.0 or right.value == 1.0):
        return right if left.value == 1.0 else left
    # the right operand of - and / needs parentheses at equal strength: a - (b - c), a/(b·c)
    if right.text.startswith("-"):  # 2·(-3) rather than 2·-3
        right_text = right.inside(max(strength, UNARY))
    else:
        right_text = right.inside(strength if kind in (ast.Sub, ast.Div) else strength - 1)
    space = " " if kind in (ast.Add, ast.Sub) else ""  # as the forward pass writes them: p*q + r, e/total
    return Term(f"{left.inside(strength - 1)}{space}{symbol}{space}{right_text}", strength)
