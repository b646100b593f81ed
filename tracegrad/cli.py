"""The command line: ``python -m tracegrad trace "tanh(x*w + b)" x=2 w=-3 b=6.88 -o trace.html``.

The expression is parsed with :mod:`tracegrad.expr` (an ``ast`` whitelist, never ``eval``): only
numbers, the variables given, ``+ - * / **`` and the one-input ops as functions are allowed.
Exit codes: 0 done, 1 the computation or drawing failed, 2 the command line was wrong.
"""

from __future__ import annotations

import argparse
import ast
import math
import sys
from typing import Callable, Dict, List, Optional, Sequence, TextIO

from .engine import OPS, TracegradError, Value
from .engine.expr import ExpressionError, evaluate, free_names, parse
from .viz.steps import trace

MAX_EXPONENT = 1000.0
"""Largest constant exponent accepted: bigger ones only overflow, or take long with integers."""


def functions() -> Dict[str, Callable[[Value], Value]]:
    """The functions an expression may call: every op with one input and no parameter, by name."""
    table: Dict[str, Callable[[Value], Value]] = {}
    for op in OPS.values():
        if op.arity == 1 and op.param is None and op.name != "neg":
            table[op.name] = _caller(op.name)
    return table


def _caller(name: str) -> Callable[[Value], Value]:
    def call(x: Value) -> Value:
        value = x if isinstance(x, Value) else Value(x)
        return getattr(value, name)()  # type: ignore[no-any-return]

    call.__name__ = name
    return call


class UsageError(Exception):
    """A command-line mistake: printed, exit code 2."""


def parse_assignments(items: Sequence[str]) -> Dict[str, float]:
    """``["x=2", "w=-3"]`` -> ``{"x": 2.0, "w": -3.0}``."""
    values: Dict[str, float] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise UsageError(f"expected NAME=NUMBER, got {item!r}")
        try:
            number = float(text)
        except ValueError:
            raise UsageError(f"{name}: {text!r} is not a number") from None
        if not math.isfinite(number):
            raise UsageError(f"{name}: {text!r} is not a finite number")
        values[name] = number
    return values


_FORBIDDEN = {"Lambda": "a lambda", "Attribute": "attribute access", "Subscript": "a subscript",
              "ListComp": "a comprehension", "GeneratorExp": "a comprehension", "DictComp": "a comprehension",
              "SetComp": "a comprehension", "NamedExpr": "an assignment expression", "Await": "await",
              "Yield": "yield", "YieldFrom": "yield", "IfExp": "a conditional (a if c else b)",
              "Compare": "a comparison"}


def check(text: str) -> None:
    """Refuse what the whitelist refuses, naming the construct wherever it is nested
    (``(lambda: 1)()`` is refused as a lambda, not as a call), and exponents that are too large.

    Raises:
        ExpressionError: naming what is not allowed.
    """

    try:
        tree = parse(text, functions())
    except ExpressionError as refused:
        try:
            raw = ast.parse(text.strip(), mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            raise refused from None
        for node in ast.walk(raw):
            what = _FORBIDDEN.get(type(node).__name__)
            if what:
                snippet = ast.get_source_segment(text.strip(), node) or ""
                raise ExpressionError(f"expression: {what} is not allowed: {snippet}") from None
        raise
    for node in ast.walk(tree):
        what = _FORBIDDEN.get(type(node).__name__)
        if what:  # allowed in formulas, but a graph of Values cannot branch on its data here
            raise ExpressionError(f"expression: {what} is not allowed: {ast.get_source_segment(text.strip(), node)}")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            _check_exponent(text, node.right)


def _check_exponent(text: str, exponent: ast.expr) -> None:
    if any(isinstance(n, ast.Name) for n in ast.walk(exponent)):
        return  # a variable: the op checks the result for overflow
    snippet = ast.get_source_segment(text.strip(), exponent) or "?"
    try:
        value = evaluate(snippet, {})
    except ExpressionError:
        value = math.inf
    if not abs(value) <= MAX_EXPONENT:
        raise ExpressionError(f"expression: the exponent {snippet} is too large (at most {MAX_EXPONENT:g})")


def build(text: str, assignments: Dict[str, float]) -> Value:
    """The graph of expression ``text`` with each variable a labelled leaf.

    Raises:
        ExpressionError: the text is not allowed, or uses a variable that has no value.
        UsageError: a value was given for a name the expression does not use.
    """
    table = functions()
    check(text)
    names = free_names(text, table)
    missing = sorted(names - set(assignments))
    if missing:
        raise UsageError(f"no value for {', '.join(missing)}: add e.g. {missing[0]}=1.0")
    unused = sorted(set(assignments) - names)
    if unused:
        raise UsageError(f"{', '.join(unused)}: not used in {text!r}")
    leaves = {name: Value(assignments[name], label=name) for name in sorted(names)}
    result = evaluate(text, leaves, table)
    root = result if isinstance(result, Value) else Value(result)
    if not root.label:
        root.label = "L"
    return root


USAGE = """usage: python -m tracegrad trace EXPRESSION [NAME=NUMBER ...] [-o PAGE.html] [--frames DIR] [--text]

commands:
  trace   step through backprop of an expression, e.g.
          python -m tracegrad trace "tanh(x*w + b)" x=2 w=-3 b=6.8813735870195432 -o trace.html
"""


def _trace_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tracegrad trace",
        description="Step through backprop of an expression, e.g. "
                    "trace \"tanh(x*w + b)\" x=2 w=-3 b=6.8813735870195432 -o trace.html",
    )
    allowed = ", ".join(sorted(functions()))
    parser.add_argument("expression", help=f"arithmetic over your variables: + - * / **, {allowed}")
    parser.add_argument("values", nargs="*", metavar="NAME=NUMBER", help="a value for each variable")
    parser.add_argument("-o", "--output", help="write the step-through page (HTML) here")
    parser.add_argument("--frames", metavar="DIR", help="write one picture per step into DIR")
    parser.add_argument("--format", choices=("svg", "png"), default="svg", help="picture format for --frames")
    parser.add_argument("--text", action="store_true", help="print the steps as a table (the default with no output)")
    parser.add_argument("--renderer", choices=("dot", "graphviz-pure"), help="which Graphviz to use")
    return parser


def main(argv: Optional[List[str]] = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run the command line; returns the exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    if not words or words[0] in ("-h", "--help"):
        print(USAGE, file=out if words else err, end="")
        return 0 if words else 2
    if words[0] != "trace":
        print(f"python -m tracegrad: error: unknown command {words[0]!r}\n{USAGE}", file=err, end="")
        return 2
    try:
        args = _trace_parser().parse_intermixed_args(words[1:])
    except SystemExit as exc:  # argparse has printed its message
        return int(exc.code or 0)

    try:
        root = build(args.expression, parse_assignments(args.values))
        t = trace(root, max_nodes=None)
        if args.text or not (args.output or args.frames):
            print(t.table(), file=out)
        if args.output:
            print(f"wrote {t.save_html(args.output, renderer=args.renderer)}", file=out)
        if args.frames:
            paths = t.save_frames(args.frames, args.format, renderer=args.renderer)
            print(f"wrote {len(paths)} frames to {args.frames}", file=out)
    except (UsageError, ExpressionError) as exc:
        print(f"python -m tracegrad trace: error: {exc}", file=err)
        failed = isinstance(exc.__cause__, (TracegradError, ArithmeticError))  # the input was fine, the math was not
        return 1 if failed else 2
    except (TracegradError, OSError, ImportError) as exc:
        print(f"python -m tracegrad trace: error: {exc}", file=err)
        return 1
    return 0
