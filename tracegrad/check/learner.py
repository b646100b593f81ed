"""A learner's own engine, driven by duck typing: which ops it has, and a graph built in it.

Any micrograd-style class will do: a constructor taking a number, ``.data``, ``.grad``,
``.backward()``, the operators and whichever of ``tanh()``, ``exp()``, ``relu()``, ``log()``,
``**`` ... it has. :class:`Engine` finds those by trying each one on small numbers, builds a
generated :class:`~tracegrad.check.expression.Expression` in it node by node, and prints that
graph as Python in the learner's own terms (``t1 = t0.tanh()``), to paste and run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..engine.ops import OPS, Op
from .expression import Expression, Node

__all__ = ["ALIASES", "FORMS", "Engine", "EngineShapeError", "Form", "data_of"]


class EngineShapeError(TypeError):
    """The class cannot be checked: no constructor taking a number, no ``.data``, ``.grad`` or
    ``.backward()``, or none of the ops asked for."""


@dataclass(frozen=True)
class Form:
    """How a micrograd-style engine writes one op of the table."""

    op: str
    label: str
    call: Callable[..., Any]
    text: str
    binary: bool = False

    def source(self, a: str, b: str = "", p: str = "") -> str:
        return self.text.format(a=a, b=b, p=p)


def _method(name: str) -> Form:
    return Form(name, name, lambda a: getattr(a, name)(), f"{{a}}.{name}()")


FORMS: Dict[str, Form] = {
    "add": Form("add", "+", lambda a, b: a + b, "{a} + {b}", binary=True),
    "sub": Form("sub", "-", lambda a, b: a - b, "{a} - {b}", binary=True),
    "mul": Form("mul", "*", lambda a, b: a * b, "{a} * {b}", binary=True),
    "div": Form("div", "/", lambda a, b: a / b, "{a} / {b}", binary=True),
    "neg": Form("neg", "-x", lambda a: -a, "-{a}"),
    "pow": Form("pow", "** (number)", lambda a, p: a**p, "{a} ** {p}"),
    "vpow": Form("vpow", "** (Value)", lambda a, b: a**b, "{a} ** {b}", binary=True),
    **{name: _method(name) for name in ("exp", "log", "sqrt", "tanh", "sigmoid", "relu", "sin", "cos")},
    "abs": Form("abs", "abs()", lambda a: abs(a), "abs({a})"),
    "leaky_relu": Form("leaky_relu", "leaky_relu(slope)", lambda a, p: a.leaky_relu(p), "{a}.leaky_relu({p})"),
    **{name: _method(name) for name in ("step", "sign")},
}
"""Every op a learner's engine may have, in the order the report lists them."""

ALIASES = {"+": "add", "-": "sub", "*": "mul", "/": "div", "-x": "neg", "**": "pow", "abs()": "abs"}
"""Other names ``check_engine(ops=[...])`` accepts for an op: its operator."""

_PROBE_PARAM = {"pow": 2.5, "leaky_relu": 0.1}
_CONSTANT = 2.0


def data_of(x: Any) -> float:
    """A number the learner's engine holds (``.data``, ``.grad`` or a plain number) as a float;
    NaN if it is no number at all (``None``, a string)."""
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


class Engine:
    """A learner's Value class, with what it was found to have.

    Attributes:
        cls: the class.
        forms: the ops it has, by op name (in :data:`FORMS` order).
        missing: the ops it lacks, with what went wrong when each was tried.
        left, right: binary ops that take a plain number on the left (``2.0 * x``) or the right.
    """

    def __init__(self, cls: Any, ops: Optional[Sequence[str]] = None) -> None:
        self.cls = cls
        self._check_shape()
        wanted = _resolve(ops)
        self.forms: Dict[str, Form] = {}
        self.missing: Dict[str, str] = {}
        for name, form in FORMS.items():
            reason = self._probe(form)
            if reason is None:
                self.forms[name] = form
            else:
                self.missing[name] = reason
        if "add" not in self.forms:
            raise EngineShapeError(f"check_engine: {self.name} needs + to be checked ({self.missing['add']})")
        if wanted is not None:
            lacking = [FORMS[n].label for n in wanted if n not in self.forms]
            if lacking:
                raise EngineShapeError(
                    f"check_engine: {self.name} has no {', '.join(lacking)} "
                    f"({'; '.join(self.missing[n] for n in wanted if n in self.missing)})"
                )
            self.forms = {n: f for n, f in self.forms.items() if n in wanted}
        self.left = {n for n, f in self.forms.items() if f.binary and self._takes_number(f, left=True)}
        self.right = {n for n, f in self.forms.items() if f.binary and self._takes_number(f, left=False)}

    @property
    def name(self) -> str:
        return getattr(self.cls, "__qualname__", repr(self.cls))

    @property
    def ops(self) -> List[Op]:
        """The op table's records of the ops the engine has, for the random-graph strategy."""
        return [OPS[name] for name in self.forms]

    def _check_shape(self) -> None:
        try:
            v = self.cls(1.5)
        except Exception as exc:
            raise EngineShapeError(
                f"check_engine: {self.name}(1.5) raised {type(exc).__name__}: {exc}; "
                "the class must be made from a number"
            ) from exc
        for attribute in ("data", "grad", "backward"):
            if not hasattr(v, attribute):
                raise EngineShapeError(f"check_engine: {self.name}(1.5) has no .{attribute}")
        if data_of(v.data) != 1.5:
            raise EngineShapeError(f"check_engine: {self.name}(1.5).data is {v.data!r}, not 1.5")

    def _probe(self, form: Form) -> Optional[str]:
        """None if the engine has ``form``, else what went wrong when it was tried."""
        a, b = self.cls(0.7), self.cls(1.3)
        try:
            out = form.call(a, b) if form.binary else (
                form.call(a, _PROBE_PARAM[form.op]) if form.op in _PROBE_PARAM else form.call(a))
        except Exception as exc:
            return f"{form.source('x', 'y', str(_PROBE_PARAM.get(form.op, '')))} raised {type(exc).__name__}"
        if not (hasattr(out, "data") and hasattr(out, "backward")):
            return f"{form.label} gave {type(out).__name__}, not a Value"
        return None

    def _takes_number(self, form: Form, left: bool) -> bool:
        a = self.cls(0.7)
        try:
            out = form.call(_CONSTANT, a) if left else form.call(a, _CONSTANT)
        except Exception:
            return False
        return hasattr(out, "data") and hasattr(out, "backward")

    # --- building a graph

    def build(self, expr: Expression) -> Dict[int, Any]:
        """The learner's object for every node of ``expr`` (by ``id``); constants stay floats.

        Raises:
            BuildError: the engine raised while building a node, naming the node.
        """
        made: Dict[int, Any] = {}
        for node in expr.nodes():
            if node.index is not None:
                made[id(node)] = self.cls(expr.inputs[node.index])
            elif node.op is None or all(_is_number(made[id(c)]) for c in node.children):
                made[id(node)] = node.value  # a constant, or a node computed from constants only
            else:
                try:
                    made[id(node)] = self._apply(node, [made[id(c)] for c in node.children])
                except Exception as exc:
                    raise BuildError(node, exc) from exc
        return made

    def _apply(self, node: Node, kids: List[Any]) -> Any:
        form, kids = self._form(node, kids)
        if form.binary:
            return form.call(*kids)
        return form.call(kids[0], node.param) if node.param is not None else form.call(kids[0])

    def _form(self, node: Node, kids: List[Any]) -> Tuple[Form, List[Any]]:
        """The form to build ``node`` with, and its arguments: a constant is passed as a number
        where the engine takes one on that side, else made a Value; ``x - c`` the engine cannot
        write becomes ``x + (-c)``."""
        name = node.op.name  # type: ignore[union-attr]
        if name == "sub" and "sub" not in self.forms and _is_number(kids[1]):
            name, kids = "add", [kids[0], -kids[1]]
        form = self.forms[name]
        if form.binary:
            kids = [
                self.cls(k) if _is_number(k) and name not in (self.left if i == 0 else self.right) else k
                for i, k in enumerate(kids)
            ]
        return form, kids

    def lines(self, expr: Expression, names: Dict[int, str]) -> Dict[int, str]:
        """The line of Python that makes each node in the learner's engine (by ``id``):
        ``x0 = Value(0.5)``, ``t1 = t0.tanh()``; constants appear inside the lines that use them."""
        cls = self.cls.__name__
        lines: Dict[int, str] = {}
        constant: Dict[int, bool] = {}
        for node in expr.nodes():
            if node.index is not None:
                lines[id(node)] = f"{names[id(node)]} = {cls}({expr.inputs[node.index]!r})"
            elif node.op is None or all(constant[id(c)] for c in node.children):
                constant[id(node)] = True
                continue
            else:
                kids: List[Any] = [c.value if constant[id(c)] else names[id(c)] for c in node.children]
                form, kids = self._form(node, kids)
                texts = [_text(k, cls, right=i > 0 or form.op != "vpow") for i, k in enumerate(kids)]
                p = "" if node.param is None else repr(node.param)
                made = form.source(texts[0], texts[1], p) if form.binary else form.source(texts[0], p=p)
                lines[id(node)] = f"{names[id(node)]} = {made}"
            constant[id(node)] = False
        inputs = sorted((n for n in expr.nodes() if n.index is not None), key=lambda n: n.index or 0)
        first = {id(n): lines[id(n)] for n in inputs}  # x0, x1, ... first, in order
        return {**first, **{k: v for k, v in lines.items() if k not in first}}

    def source(self, expr: Expression, names: Dict[int, str], comments: Dict[str, str]) -> str:
        """``expr`` as Python in the learner's terms: one line per node, then ``backward()`` and
        a ``print`` of each input's gradient with ``comments`` (what each engine says)."""
        module = getattr(self.cls, "__module__", "")
        cls = self.cls.__name__
        local = module in ("", "__main__", "builtins") or "<locals>" in self.name
        head = [f"# {cls} is your engine's Value class"] if local else [f"from {module} import {cls}", ""]
        tail = [f"{names[id(expr.output)]}.backward()"] + [
            f"print({name}.grad)  # {comments[name]}" if name in comments else f"print({name}.grad)"
            for name in expr.names if any(names.get(id(n)) == name for n in expr.nodes())
        ]
        return "\n".join([*head, *self.lines(expr, names).values(), *tail])


class BuildError(Exception):
    """The learner's engine raised while building a node of a graph."""

    def __init__(self, node: Node, error: BaseException) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.node = node
        self.error = error


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _text(k: Any, cls: str, right: bool) -> str:
    """An argument as source: a name, a number (bracketed where ``-`` would bind wrongly) or
    ``Value(number)``."""
    if isinstance(k, str):
        return k
    if _is_number(k):
        text = repr(k)
        return f"({text})" if text.startswith("-") and not right else text
    return f"{cls}({k.data!r})"


def _resolve(ops: Optional[Sequence[str]]) -> Optional[List[str]]:
    if ops is None:
        return None
    if isinstance(ops, str):
        ops = [ops]
    names = []
    for item in ops:
        name = ALIASES.get(item, item)
        if name not in FORMS:
            known = ", ".join(sorted({*FORMS, *ALIASES}))
            raise ValueError(f"check_engine: unknown op {item!r} (known: {known})")
        names.append(name)
    if not names:
        raise ValueError("check_engine: ops must name at least one op")
    return names
