"""Arithmetic expression text, parsed with :mod:`ast` against a whitelist: never ``eval``.

Used for the op table's formula texts and for expressions typed on the command line
(``tanh(x*w + b)``). Only numbers, the given names, the given functions, ``+ - * / **``, unary
signs, comparisons and ``a if cond else b`` are accepted; anything else is refused with a
message naming it. Numbers become floats, so ``10 ** 10 ** 10`` overflows at once instead of
building a huge integer.
"""

from __future__ import annotations

import ast
import operator
from typing import Any, Callable, Dict, Mapping, Set

from .errors import TracegradError

MAX_LENGTH = 10_000
"""Longest expression text accepted, in characters."""


class ExpressionError(TracegradError, ValueError):
    """Expression text that is not allowed, or fails to evaluate."""


_BINARY: Dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_UNARY: Dict[type, Callable[[Any], Any]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}
_COMPARE: Dict[type, Callable[[Any, Any], Any]] = {
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
}

_DESCRIPTIONS = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.NamedExpr: "assignment expressions",
    ast.Starred: "starred arguments",
    ast.JoinedStr: "f-strings",
    ast.BoolOp: "and/or",
}


def _refuse(node: ast.AST, text: str, what: str = "") -> ExpressionError:
    what = what or _DESCRIPTIONS.get(type(node), type(node).__name__)
    snippet = ast.get_source_segment(text, node) or ""
    where = f": {snippet}" if snippet else ""
    return ExpressionError(f"expression: {what} is not allowed{where}")


def parse(text: str, functions: Mapping[str, Any] = ()) -> ast.Expression:  # type: ignore[assignment]
    """Parse ``text`` and check every node against the whitelist.

    Raises:
        ExpressionError: naming the first construct that is not allowed.
    """
    if not isinstance(text, str):
        raise ExpressionError(f"expression: must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression: longer than {MAX_LENGTH} characters ({len(text)})")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ExpressionError(f"expression: cannot parse {text!r}: {exc}") from None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Expression, ast.Load, ast.Name, ast.operator, ast.unaryop, ast.cmpop)):
            if isinstance(node, ast.operator) and type(node) not in _BINARY:
                raise ExpressionError(f"expression: operator {type(node).__name__} is not allowed")
            if isinstance(node, ast.unaryop) and type(node) not in _UNARY:
                raise ExpressionError(f"expression: operator {type(node).__name__} is not allowed")
            if isinstance(node, ast.cmpop) and type(node) not in _COMPARE:
                raise ExpressionError(f"expression: comparison {type(node).__name__} is not allowed")
            continue
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise _refuse(node, text, f"the constant {node.value!r}")
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise _refuse(node.func, text)
            if node.func.id not in functions:
                raise _refuse(node, text, "calling anything but " + (", ".join(sorted(functions)) or "nothing"))
            if node.keywords:
                raise _refuse(node, text, "keyword arguments")
        elif isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                raise _refuse(node, text, "chained comparisons")
        elif not isinstance(node, (ast.BinOp, ast.UnaryOp, ast.IfExp)):
            raise _refuse(node, text)
    return tree


def free_names(text: str, functions: Mapping[str, Any] = ()) -> Set[str]:  # type: ignore[assignment]
    """The variable names ``text`` uses (not the function names), after checking it."""
    tree = parse(text, functions)
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called}


def evaluate(text: str, variables: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]] = ()) -> Any:  # type: ignore[assignment]
    """Evaluate checked expression text with the given variables and functions.

    Variables may be floats or Values: the operators are applied to whatever they hold.

    >>> evaluate("1 - out**2", {"out": 0.5})
    0.75

    Raises:
        ExpressionError: the text is not allowed, names an unknown variable, or fails
            (overflow, division by zero, an op's domain error), with the reason.
    """
    functions = dict(functions)
    tree = parse(text, functions)

    def ev(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant):
            return float(node.value)  # type: ignore[arg-type]
        if isinstance(node, ast.Name):
            if node.id not in variables:
                known = ", ".join(sorted(variables)) or "none"
                raise ExpressionError(f"expression: unknown name {node.id!r} (known: {known})")
            return variables[node.id]
        if isinstance(node, ast.BinOp):
            return _BINARY[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp):
            return _UNARY[type(node.op)](ev(node.operand))
        if isinstance(node, ast.Compare):
            return _COMPARE[type(node.ops[0])](ev(node.left), ev(node.comparators[0]))
        if isinstance(node, ast.IfExp):
            return ev(node.body) if ev(node.test) else ev(node.orelse)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return functions[node.func.id](*[ev(a) for a in node.args])
        raise _refuse(node, text)  # parse() admits nothing else

    try:
        return ev(tree)
    except ExpressionError:
        raise
    except RecursionError:
        raise ExpressionError("expression: nested too deeply") from None
    except (ArithmeticError, ValueError, TypeError) as exc:
        raise ExpressionError(f"expression: {text!r} failed: {exc}") from exc

