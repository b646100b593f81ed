"""Arithmetic expression text, parsed with :mod:`ast` against a whitelist: never ``eval``.

Used for the op table's formula texts and for expressions typed on the command line
(``tanh(x*w + b)``). Only numbers, the given names, the given functions, ``+ - * / **``, unary
signs, comparisons and ``a if cond else b`` are accepted; anything else is refused with a
message naming it. Numbers become floats, so ``10 ** 10 ** 10`` overflows at once instead of
building a huge integer; a number too large for a float (``1e999``) is refused, as is any
text that would not fit in a float. Evaluation walks the tree without recursion, so a long
chain such as ``x*x*...*x`` is as good as a short one.
"""

from __future__ import annotations

import ast
import math
import operator
from typing import Any, Callable, Dict, List, Mapping, Set, Tuple

from .errors import TracegradError

MAX_LENGTH = 10_000
"""Longest expression text accepted, in characters."""

SHOWN = 60
"""Longest piece of the expression an error message quotes."""


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

_OPERATORS = {
    ast.BitXor: "^ (for a power write **, as in x**2)", ast.Mod: "% (remainder)",
    ast.FloorDiv: "// (floor division; / divides)", ast.MatMult: "@ (matrix product)", ast.BitAnd: "&",
    ast.BitOr: "|", ast.LShift: "<<", ast.RShift: ">>", ast.Invert: "~ (bitwise not)", ast.Not: "not",
    ast.Eq: "== (compare with <, <=, >, >=)", ast.NotEq: "!=", ast.Is: "is", ast.IsNot: "is not",
    ast.In: "in", ast.NotIn: "not in",
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


def clip(text: str, limit: int = SHOWN) -> str:
    """``text`` for a message, cut to ``limit`` characters (an error never echoes 10 KB)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + f"… ({len(text)} characters)"


def shown(text: str, limit: int = SHOWN) -> str:
    """:func:`clip`, quoted: ``'x ** 2'``."""
    return repr(clip(text, limit))


def segment(text: str, node: ast.AST) -> str:
    """The source of ``node`` in ``text`` (one-line expressions: a slice, no re-splitting)."""
    start, end = getattr(node, "col_offset", None), getattr(node, "end_col_offset", None)
    if start is None or end is None or getattr(node, "lineno", 1) != 1 or getattr(node, "end_lineno", 1) != 1:
        return ast.get_source_segment(text, node) or ""
    return text.encode("utf-8")[start:end].decode("utf-8", "replace")


def _refuse(node: ast.AST, text: str, what: str = "") -> ExpressionError:
    what = what or _DESCRIPTIONS.get(type(node), type(node).__name__)
    snippet = segment(text, node)
    where = f": {clip(snippet)}" if snippet else ""
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
    source = text.strip()
    try:
        tree = ast.parse(source, mode="eval")
    except (RecursionError, MemoryError):
        raise ExpressionError(
            "expression: too deep for Python's parser: it reads at most about 2,900 operations in one "
            "chain (x*x*...), or brackets nested about 200 deep; split it into parts"
        ) from None
    except (SyntaxError, ValueError) as exc:
        reason = exc.msg if isinstance(exc, SyntaxError) else str(exc)
        raise ExpressionError(f"expression: cannot parse {shown(source)}: {reason}") from None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Expression, ast.Load, ast.Name)):
            continue
        if isinstance(node, (ast.operator, ast.unaryop, ast.cmpop)):
            if type(node) not in _BINARY and type(node) not in _UNARY and type(node) not in _COMPARE:
                words = _OPERATORS.get(type(node), type(node).__name__)
                raise ExpressionError(f"expression: the operator {words} is not allowed")
        elif isinstance(node, ast.Constant):
            _check_constant(node, source)
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise _refuse(node.func, source)
            if node.func.id not in functions:
                raise _refuse(node, source, "calling anything but " + (", ".join(sorted(functions)) or "nothing"))
            if node.keywords:
                raise _refuse(node, source, "keyword arguments")
        elif isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                raise _refuse(node, source, "chained comparisons")
        elif not isinstance(node, (ast.BinOp, ast.UnaryOp, ast.IfExp)):
            raise _refuse(node, source)
    return tree


def _check_constant(node: ast.Constant, text: str) -> None:
    """Numbers only, and only those a float holds: ``1e999`` (inf) is refused like ``x=inf``."""
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _refuse(node, text, f"the constant {clip(repr(value))}")
    try:
        finite = math.isfinite(float(value))
    except OverflowError:
        finite = False
    if not finite:
        raise ExpressionError(
            f"expression: the number {clip(segment(text, node))} is too large for a float (at most about 1.8e308)"
        )


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
    return evaluate_tree(tree.body, text.strip(), variables, functions)


def evaluate_tree(root: ast.AST, text: str, variables: Mapping[str, Any], functions: Mapping[str, Any]) -> Any:
    """Evaluate a checked tree (or a part of it) without recursion; ``text`` is its source."""
    try:
        return _walk(root, variables, functions)
    except ExpressionError:
        raise
    except (ArithmeticError, ValueError, TypeError) as exc:
        reason = "a result is too large for a float" if type(exc) is OverflowError else str(exc)
        raise ExpressionError(f"expression: {shown(text)} failed: {reason}") from exc


def _walk(root: ast.AST, variables: Mapping[str, Any], functions: Mapping[str, Any]) -> Any:
    """Post-order evaluation with an explicit stack: each node's operands are computed first
    (a conditional's test first, then only the branch it picks)."""
    results: List[Any] = []
    todo: List[Tuple[ast.AST, bool]] = [(root, False)]
    while todo:
        node, operands_done = todo.pop()
        if isinstance(node, ast.Constant):
            results.append(float(node.value))  # type: ignore[arg-type]
        elif isinstance(node, ast.Name):
            if node.id not in variables:
                known = ", ".join(sorted(variables)) or "none"
                raise ExpressionError(f"expression: unknown name {node.id!r} (known: {known})")
            results.append(variables[node.id])
        elif isinstance(node, ast.IfExp):
            if not operands_done:
                todo.append((node, True))
                todo.append((node.test, False))
            else:
                todo.append((node.body if results.pop() else node.orelse, False))
        elif not operands_done:
            todo.append((node, True))
            todo.extend((child, False) for child in reversed(_operands(node)))
        else:
            count = len(_operands(node))
            args = results[len(results) - count:]
            del results[len(results) - count:]
            results.append(_apply(node, args, functions))
    return results[0]


def _operands(node: ast.AST) -> List[ast.AST]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Compare):
        return [node.left, node.comparators[0]]
    if isinstance(node, ast.Call):
        return list(node.args)
    raise ExpressionError(f"expression: {type(node).__name__} is not allowed")  # parse() admits nothing else


def _apply(node: ast.AST, args: List[Any], functions: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](*args)
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](*args)
    if isinstance(node, ast.Compare):
        return _COMPARE[type(node.ops[0])](*args)
    return functions[node.func.id](*args)  # type: ignore[attr-defined]  # a Call, checked by parse()
