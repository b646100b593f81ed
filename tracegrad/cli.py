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
from typing import Callable, Dict, List, NoReturn, Optional, Sequence, TextIO

from .engine import OPS, TracegradError, Value, topological_order
from .engine.expr import ExpressionError, clip, evaluate_tree, parse, segment, shown
from .files import existing_mode
from .viz.dot import DEFAULT_MAX_NODES
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
    """``["x=2", "w=-3"]`` -> ``{"x": 2.0, "w": -3.0}``; each name once, each number finite
    (the same rule as for numbers in the expression)."""
    values: Dict[str, float] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise UsageError(f"expected NAME=NUMBER, got {shown(item)}")
        try:
            number = float(text)
        except ValueError:
            raise UsageError(f"{name}: {shown(text)} is not a number") from None
        if not math.isfinite(number):
            raise UsageError(f"{name}: {shown(text)} is not a finite number")
        if name in values:
            raise UsageError(f"{name} is given twice ({name}={values[name]:g} and {name}={clip(text)}): give it once")
        values[name] = number
    return values


_FORBIDDEN = {"Lambda": "a lambda", "Attribute": "attribute access", "Subscript": "a subscript",
              "ListComp": "a comprehension", "GeneratorExp": "a comprehension", "DictComp": "a comprehension",
              "SetComp": "a comprehension", "NamedExpr": "an assignment expression", "Await": "await",
              "Yield": "yield", "YieldFrom": "yield", "IfExp": "a conditional (a if c else b)",
              "Compare": "a comparison"}


def check(text: str) -> ast.Expression:
    """Refuse what the whitelist refuses, naming the construct wherever it is nested
    (``(lambda: 1)()`` is refused as a lambda, not as a call), a function called with other than
    one argument, and exponents that are too large or cannot be computed. Returns the tree.

    Raises:
        ExpressionError: naming what is not allowed.
    """
    table = functions()
    source = text.strip() if isinstance(text, str) else text
    try:
        tree = parse(text, table)
    except ExpressionError as refused:
        try:
            raw = ast.parse(source, mode="eval")
        except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError):
            raise refused from None
        for node in ast.walk(raw):
            what = _FORBIDDEN.get(type(node).__name__)
            if what:
                raise ExpressionError(f"expression: {what} is not allowed: {clip(segment(source, node))}") from None
        raise
    for node in ast.walk(tree):
        what = _FORBIDDEN.get(type(node).__name__)
        if what:  # allowed in formulas, but a graph of Values cannot branch on its data here
            raise ExpressionError(f"expression: {what} is not allowed: {clip(segment(source, node))}")
        if isinstance(node, ast.Call) and len(node.args) != 1:
            name = node.func.id  # type: ignore[attr-defined]
            raise ExpressionError(
                f"expression: {name} takes 1 argument, got {len(node.args)}: {clip(segment(source, node))}"
            )
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            _check_exponent(source, node.right)
    return tree


def _check_exponent(text: str, exponent: ast.expr) -> None:
    if any(isinstance(n, ast.Name) for n in ast.walk(exponent)):
        return  # a variable: the op checks the result for overflow
    snippet = clip(segment(text, exponent)) or "?"
    try:
        value = evaluate_tree(exponent, segment(text, exponent), {}, functions())
    except ExpressionError as exc:
        if not isinstance(exc.__cause__, OverflowError):
            reason = str(exc.__cause__ or exc).replace("expression: ", "")
            raise ExpressionError(f"expression: the exponent {snippet} cannot be computed: {reason}") from None
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
    tree = check(text)
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called}
    missing = sorted(names - set(assignments))
    if missing:
        raise UsageError(f"no value for {', '.join(missing)}: add e.g. {missing[0]}=1.0")
    unused = sorted(set(assignments) - names)
    if unused:
        raise UsageError(f"{', '.join(unused)}: not used in {shown(text.strip())}")
    leaves = {name: Value(assignments[name], label=name) for name in sorted(names)}
    result = evaluate_tree(tree.body, text.strip(), leaves, table)
    root = result if isinstance(result, Value) else Value(result)
    if not root.label:
        root.label = "L"
    return root


USAGE = """usage: python -m tracegrad trace EXPRESSION [NAME=NUMBER ...] [-o PAGE.html] [--frames DIR] [--text]

commands:
  trace   step through backprop of an expression, e.g.
          python -m tracegrad trace "tanh(x*w + b)" x=2 w=-3 b=6.8813735870195432 -o trace.html
          (an expression that starts with -, like -x*2, goes after --: trace -- "-x*2" x=1)
"""

COMMANDS = ("trace",)


class _Parser(argparse.ArgumentParser):
    """argparse whose refusals reach :func:`main` (which prints them where it was told to),
    with a hint where an expression starting with ``-`` was taken for an option."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments: -"):
            message += ' (an expression that starts with - goes after --: trace -- "-x*2" x=1)'
        raise UsageError(f"{message}\n{self.format_usage().strip()}")


def _trace_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m tracegrad trace",
        usage="%(prog)s [options] [--] EXPRESSION [NAME=NUMBER ...]",
        description="Step through backprop of an expression, e.g. "
                    "trace \"tanh(x*w + b)\" x=2 w=-3 b=6.8813735870195432 -o trace.html",
    )
    allowed = ", ".join(sorted(functions()))
    parser.add_argument("words", nargs="*", metavar="EXPRESSION [NAME=NUMBER ...]",
                        help=f"arithmetic over your variables (+ - * / **, {allowed}), then a value for each")
    parser.add_argument("-o", "--output", help="write the step-through page (HTML) here")
    parser.add_argument("--frames", metavar="DIR", help="write one picture per step into DIR")
    parser.add_argument("--format", choices=("svg", "png"), default="svg", help="picture format for --frames")
    parser.add_argument("--text", action="store_true", help="print the steps as a table (the default with no output)")
    parser.add_argument("--renderer", choices=("dot", "graphviz-pure"), help="which Graphviz to use")
    parser.add_argument("--max-nodes", type=_positive, default=DEFAULT_MAX_NODES, metavar="N",
                        help=f"refuse graphs of more than N values (default {DEFAULT_MAX_NODES}, as for draw)")
    return parser


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def parse_command_line(words: List[str]) -> argparse.Namespace:
    """The ``trace`` command's arguments; everything after ``--`` is an expression or a value,
    even when it starts with ``-`` (argparse alone loses ``--`` with intermixed options).

    Raises:
        UsageError: the options are wrong, there is no expression, or a file or folder name is empty.
        SystemExit: ``--help`` (argparse has printed the help).
    """
    cut = words.index("--") if "--" in words else len(words)
    args = _trace_parser().parse_intermixed_args(words[:cut])
    args.words += words[cut + 1:]
    if not args.words:
        raise UsageError("no EXPRESSION given, e.g. trace \"x*x\" x=3")
    args.expression, args.values = args.words[0], args.words[1:]
    for option, value in (("-o", args.output), ("--frames", args.frames)):
        if value is not None and not value.strip():
            raise UsageError(f"{option}: the name is empty; give a file name (e.g. {option} out.html)"
                             if option == "-o" else f"{option}: the folder name is empty (e.g. {option} frames)")
    return args


def main(argv: Optional[List[str]] = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run the command line; returns the exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    if not words or words[0] in ("-h", "--help"):
        print(USAGE, file=out if words else err, end="")
        return 0 if words else 2
    if words[0] not in COMMANDS:
        hint = (" (to draw an expression's graph: trace EXPRESSION NAME=NUMBER ... -o page.html, "
                "or --frames DIR for one picture per step)" if words[0] in ("draw", "plot", "show", "graph") else "")
        print(f"python -m tracegrad: error: unknown command {shown(words[0])}; the command is trace{hint}\n{USAGE}",
              file=err, end="")
        return 2
    try:
        args = parse_command_line(words[1:])
    except SystemExit as exc:  # --help: argparse has printed it
        return int(exc.code or 0)
    except UsageError as exc:
        print(f"python -m tracegrad trace: error: {exc}", file=err)
        return 2

    try:
        if args.output:
            existing_mode(args.output)  # refuse a device, a FIFO, a link or a folder before any work
        root = build(args.expression, parse_assignments(args.values))
        size = len(topological_order(root))
        if size > args.max_nodes:
            raise UsageError(
                f"the graph has {size} values, more than --max-nodes {args.max_nodes}: a step-through that "
                f"long is slow to make and to follow; pass --max-nodes {size} to make it anyway, "
                "or trace a part of the expression"
            )
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
