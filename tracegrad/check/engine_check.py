"""check_engine: a learner's own autograd engine, checked against tracegrad.

Building micrograd yourself is the rite of passage of backprop; :func:`check_engine` tests the
result properly. It finds by duck typing which ops the class has (:mod:`.learner`), then runs:

* **each op alone**, at a point or two inside its domain (and with a number on either side);
* **the classic traps** on purpose: ``a + a``, ``a * a``, a diamond (a node used twice, once
  through another node), a 2,000-deep chain, and ``backward()`` called twice;
* **random graphs** from tracegrad's own strategy (:func:`~tracegrad.testing.expressions`) over
  the ops found: the same graph is built in both engines and every forward value and input
  gradient compared. On a difference hypothesis shrinks the graph, and the report shows the
  smallest one as Python to paste, the node whose gradient differs first and the likely cause.

:func:`assert_engine` is the same as a test assertion, for graders who use pytest.
"""

from __future__ import annotations

import random
import sys
import textwrap
import time
from dataclasses import dataclass, field
from typing import Any, Callable, List, Optional, Sequence, Tuple

from ..engine.ops import OPS
from .compare import CAUSES, Facts, Run, diagnose
from .expression import Expression, Node, run_checked
from .learner import FORMS, Engine, data_of
from .shrink import one_node_per_input, simplify
from .strategies import expressions, hypothesis_strategies

__all__ = ["CHECKS", "EngineCheckError", "EngineReport", "Finding", "assert_engine", "check_engine"]

CHECKS = ("each op alone", "a + a", "a * a", "a diamond", "a 2,000-deep chain", "backward() twice", "random graphs")
"""The checks, by the names that reports and ``assert_engine(allow=...)`` use."""

CHAIN = 2000
_SHRUNK = ("random graphs",)


@dataclass
class Finding:
    """Something a check found: what it is, why it most likely happens, and code to see it.

    Attributes:
        check: which check (one of :data:`CHECKS`).
        title: one line.
        detail: the explanation, in the learner's names.
        cause: a key of :data:`~tracegrad.check.compare.CAUSES`, when the cause is a known one.
        example: Python to paste and run, printing what tracegrad and the engine give.
        node: the node whose value or gradient differs first (``x0``, ``t1``).
        severity: ``"wrong"`` (a wrong number), ``"limit"`` (a limit such as recursion depth)
            or ``"note"`` (a convention different from tracegrad's; not a failure).
    """

    check: str
    title: str
    detail: str = ""
    cause: Optional[str] = None
    example: str = ""
    node: Optional[str] = None
    severity: str = "wrong"

    def __str__(self) -> str:
        lines = [f"{self.check}: {self.title}"]
        if self.cause:
            lines.append(f"  likely cause: {CAUSES[self.cause]}")
        lines += [f"  {line}" for line in _wrap(self.detail)]
        if self.example:
            lines += [f"  {'the smallest example' if self.check in _SHRUNK else 'to see it'}, paste and run:", ""]
            lines += [f"    {line}" if line else "" for line in self.example.splitlines()]
            lines.append("")
        return "\n".join(lines)


@dataclass
class EngineReport:
    """What :func:`check_engine` found. ``str(report)`` is the printed report.

    Attributes:
        engine: the class's name.
        found, missing: the ops found (their labels) and those not found.
        results: each check that ran, with its verdict (``ok`` or what went wrong).
        findings: the findings, in the order of :data:`CHECKS`.
        graphs: how many random graphs were compared.
        seconds: how long the checks took.
    """

    engine: str
    found: List[str]
    missing: List[str]
    results: List[Tuple[str, str]] = field(default_factory=list)
    findings: List[Finding] = field(default_factory=list)
    graphs: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """No finding other than notes."""
        return all(f.severity == "note" for f in self.findings)

    def failing(self, allow: Sequence[str] = ()) -> List[Finding]:
        """The findings that fail a grade, leaving out notes and the checks in ``allow``."""
        return [f for f in self.findings if f.severity != "note" and f.check not in allow]

    def head(self) -> str:
        return "\n".join([f"check_engine: {self.engine}", f"  found: {' '.join(self.found)}",
                          f"  not found: {' '.join(self.missing) or '-'}"])

    def __str__(self) -> str:
        return "\n".join([self.head(), *(_line(name, verdict) for name, verdict in self.results), self.tail()])

    def tail(self) -> str:
        """The time taken and the findings, after the checks' lines."""
        lines = [f"  ({self.seconds:.2f} s)"]
        if self.findings:
            lines += ["", f"{len(self.findings)} finding{'s' if len(self.findings) > 1 else ''}:", ""]
            lines += [f"{k}. {finding}" for k, finding in enumerate(self.findings, 1)]
        else:
            lines += ["", "No findings: your engine agrees with tracegrad on everything checked."]
        return "\n".join(lines)


def _line(name: str, verdict: str) -> str:
    return f"  {name} {'.' * (max(len(n) for n in CHECKS) + 3 - len(name))} {verdict}"


class EngineCheckError(AssertionError):
    """:func:`assert_engine` found something; the message is the report, the report is ``.report``."""

    def __init__(self, report: EngineReport) -> None:
        super().__init__(str(report))
        self.report = report


def check_engine(
    cls: Any,
    ops: Optional[Sequence[str]] = None,
    *,
    max_examples: int = 200,
    seed: int = 0,
    checks: Sequence[str] = CHECKS,
    say: Optional[Callable[[str], None]] = print,
) -> EngineReport:
    """Check a micrograd-style Value class against tracegrad; print and return the report.

    Args:
        cls: the class: ``cls(1.5)`` makes a leaf with ``.data``, ``.grad`` and ``.backward()``.
        ops: the ops to check (``"+"``, ``"*"``, ``"tanh"``, ``"**"``, ...); by default every
            one the class is found to have.
        max_examples: how many random graphs to compare before calling the engine right.
        seed: the random graphs' seed: the same seed checks the same graphs, so a grade is
            repeatable.
        checks: which of :data:`CHECKS` to run (all by default).
        say: where the report goes as it is made (``print``); None to stay quiet.

    Raises:
        EngineShapeError: the class has no constructor taking a number, no ``.data``,
            ``.grad`` or ``.backward()``, or not the ops asked for.

    >>> from micrograd.engine import Value          # doctest: +SKIP
    >>> report = check_engine(Value)                # doctest: +SKIP
    """
    started = time.perf_counter()
    _known(checks, "checks")
    engine = Engine(cls, ops)
    module = getattr(cls, "__module__", "")
    name = engine.name if module in ("", "__main__", "builtins") else f"{module}.{engine.name}"
    report = EngineReport(name, [f.label for f in engine.forms.values()],
                          [FORMS[n].label for n in FORMS if n in engine.missing])
    if say:
        say(report.head())
    for name, check in _CHECKS:
        if name not in checks:
            continue
        verdict, findings = check(engine, report, max_examples, seed)
        report.results.append((name, verdict))
        report.findings += findings
        if say:
            say(_line(name, verdict))
    report.seconds = time.perf_counter() - started
    if say:
        say(report.tail())
    return report


def assert_engine(cls: Any, ops: Optional[Sequence[str]] = None, *, allow: Sequence[str] = (),
                  max_examples: int = 200, seed: int = 0, checks: Sequence[str] = CHECKS) -> EngineReport:
    """:func:`check_engine` as an assertion: raise :class:`EngineCheckError` (an AssertionError
    whose message is the report) on any finding but notes and those of the checks in ``allow``
    (e.g. ``allow=["a 2,000-deep chain"]`` for engines that may recurse)."""
    _known(allow, "allow")
    report = check_engine(cls, ops, max_examples=max_examples, seed=seed, checks=checks, say=None)
    if report.failing(allow):
        raise EngineCheckError(report)
    return report


def _known(names: Sequence[str], what: str) -> None:
    if isinstance(names, str):
        raise TypeError(f"check_engine: {what} takes a list of check names, got the string {names!r}")
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise ValueError(f"check_engine: unknown check {unknown[0]!r} in {what} (checks: {', '.join(CHECKS)})")


# --- the checks

Outcome = Tuple[str, List[Finding]]


def _node(name: str, *children: Node, param: Optional[float] = None) -> Node:
    op = OPS[name]
    value = float(run_checked(op, [c.value for c in children] + ([] if param is None else [param])))
    return Node(value, op, children, param)


def _graph(check: str, engine: Engine, expr: Expression, facts: Optional[Facts] = None) -> Optional[Finding]:
    run = Run(engine, expr)
    if run.mismatch is None:
        return None
    detail, cause = diagnose(run, facts)
    node = run.mismatch.node
    return Finding(check, _title(run, cause), detail, cause, run.source(), run.names.get(id(node)) if node else None)


def _title(run: Run, cause: Optional[str]) -> str:
    m = run.mismatch
    if m is None or m.node is None or m.kind in ("build", "backward"):
        return "your engine raised an exception"
    what = "value" if m.kind == "forward" else "gradient"
    return f"wrong {what} of {run.names[id(m.node)]}"


def _each_op(engine: Engine, report: EngineReport, max_examples: int, seed: int) -> Outcome:
    findings, wrong = [], []
    for name in engine.forms:
        for expr in _alone(engine, name):
            finding = _graph("each op alone", engine, expr)
            if finding is not None:
                finding.title = f"{FORMS[name].label}: {finding.title}"
                findings.append(finding)
                wrong.append(FORMS[name].label)
                break
    return ("ok" if not wrong else f"WRONG: {' '.join(wrong)}"), findings


def _alone(engine: Engine, name: str) -> List[Expression]:
    """Small graphs of one op: at a positive and a negative point where its domain allows, and
    with a number on either side of a binary op where the engine takes one."""
    op = OPS[name]
    x, y = Node(0.7, index=0), Node(1.3, index=1)
    if op.arity == 2:
        graphs = [Expression(_node(name, x, y), [0.7, 1.3])]
        if op.domain[0].contains(-0.6):
            xn = Node(-0.6, index=0)
            graphs.append(Expression(_node(name, xn, y), [-0.6, 1.3]))
        if name in engine.left:
            graphs.append(Expression(_node(name, Node(2.0), x), [0.7]))
        if name in engine.right:
            graphs.append(Expression(_node(name, x, Node(2.0)), [0.7]))
        return graphs
    param = {"pow": 2.5, "leaky_relu": 0.1}.get(name)
    points = [p for p in (0.7, -0.6) if op.domain[0].contains(p)]
    return [Expression(_node(name, Node(p, index=0), param=param), [p]) for p in points]


def _trap(check: str, build: Callable[[Node], Node], needs: Tuple[str, ...]) -> Callable[..., Outcome]:
    def run(engine: Engine, report: EngineReport, max_examples: int, seed: int) -> Outcome:
        lacking = [FORMS[n].label for n in needs if n not in engine.forms]
        if lacking:
            return f"skipped: your engine has no {' '.join(lacking)}", []
        finding = _graph(check, engine, Expression(build(Node(1.5, index=0)), [1.5]))
        return ("ok", []) if finding is None else (f"WRONG ({finding.cause or 'see below'})", [finding])
    return run


def _diamond(a: Node) -> Node:
    b = _node("mul", a, Node(2.0))
    return _node("add", b, _node("mul", b, Node(3.0)))


def _chain(engine: Engine, report: EngineReport, max_examples: int, seed: int) -> Outcome:
    """A 2,000-deep chain of ``+ 1.0``: a recursive backward fails past Python's recursion limit."""
    def works(depth: int) -> Optional[BaseException]:
        x = engine.cls(0.5)
        y = x
        one = 1.0 if "add" in engine.right else engine.cls(1.0)
        for _ in range(depth):
            y = y + one
        try:
            y.backward()
        except Exception as exc:  # RecursionError most often
            return exc
        return None if data_of(x.grad) == 1.0 else ValueError(f"x.grad is {x.grad!r}, not 1.0")

    error = works(CHAIN)
    if error is None:
        return "ok", []
    code = (f"x = {engine.cls.__name__}(0.5)\ny = x\nfor _ in range({CHAIN}):\n    y = y + 1.0\n"
            "y.backward()\nprint(x.grad)  # tracegrad: 1.0")
    if not isinstance(error, RecursionError):
        return "WRONG", [Finding("a 2,000-deep chain", f"backward() through {CHAIN:,} additions: {_name(error)}",
                                 "", "error", code)]
    low, high = 1, CHAIN
    while low < high:  # the deepest chain that works
        mid = (low + high + 1) // 2
        low, high = (mid, high) if works(mid) is None else (low, mid - 1)
    detail = (f"backward() through a chain of {CHAIN:,} additions raised RecursionError; chains up to {low:,} "
              f"deep work (sys.getrecursionlimit() is {sys.getrecursionlimit():,}). A network's graph is "
              "deeper than that soon. Build the topological order with a loop and a stack instead.")
    return "your backward recurses", [Finding(
        "a 2,000-deep chain", "your backward recurses: Python's limit is about 1,000 deep", detail,
        "recursion", code, severity="limit")]


def _name(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _twice(engine: Engine, report: EngineReport, max_examples: int, seed: int) -> Outcome:
    """``y.backward()`` twice: the leaves' gradients add up (twice the first call's)."""
    if "mul" not in engine.forms:
        return "skipped: your engine has no *", []
    x = engine.cls(3.0)
    y = x * x * x
    code = (f"x = {engine.cls.__name__}(3.0)\ny = x * x * x\ny.backward()\nprint(x.grad)  # 27.0\n"
            "y.backward()\nprint(x.grad)")
    try:
        y.backward()
        first = data_of(x.grad)
        y.backward()
        second = data_of(x.grad)
    except Exception as exc:
        return "WRONG", [Finding("backward() twice", f"a second backward() raised {_name(exc)}", "", "error", code)]
    if first != 27.0:
        return "skipped: x * x * x is already wrong (see a * a)", []
    if second == 54.0:
        return "ok", []
    if second == 27.0:
        detail = ("A second backward() gives the same gradients as the first: your engine starts from zero each "
                  "time. PyTorch and tracegrad add them up (54.0) until you zero them; that is a choice, not a "
                  "bug, but say so to your users.")
        return "starts from zero (a note)", [Finding("backward() twice", "gradients do not add up across calls",
                                                     detail, None, code + "  # tracegrad: 54.0", severity="note")]
    detail = (f"After two calls x.grad is {second!r}; tracegrad: 54.0, twice 27.0. The interior node x * x kept "
              "the gradient of the first call, so the second call passed it back again. Set the gradient of "
              "every node that is not a leaf to 0 at the start of backward() (leaves keep adding up until "
              "zero_grad()).")
    return "gradient not reset between calls", [Finding(
        "backward() twice", f"x.grad is {second!r} after two calls, not 54.0", detail, "not reset",
        code + f"  # tracegrad: 54.0; your engine: {second!r}")]


def _random(engine: Engine, report: EngineReport, max_examples: int, seed: int) -> Outcome:
    """Random graphs over the ops found; the smallest failing one, shrunk by hypothesis."""
    from hypothesis import HealthCheck, Verbosity, find, settings
    from hypothesis.errors import NoSuchExample

    hypothesis_strategies()
    count = [0, 0]  # graphs compared, and how many before the first failure

    def fails(expr: Expression) -> bool:
        count[0] += 1
        failed = Run(engine, expr).mismatch is not None
        if failed and not count[1]:
            count[1] = count[0]
        return failed

    budget = settings(max_examples=max_examples, database=None, deadline=None, derandomize=False,
                      verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck))
    try:
        smallest = find(expressions(n_inputs=2, ops=engine.ops), fails, settings=budget, random=random.Random(seed))
    except NoSuchExample:
        report.graphs = count[0]
        return f"ok ({count[0]} graphs)", []
    report.graphs = count[1]
    smallest = simplify(one_node_per_input(smallest), lambda e: Run(engine, e).mismatch is not None)
    finding = _graph("random graphs", engine, smallest, _facts(report))
    if finding is None:
        return "WRONG once, then right on the same graph: does your engine keep state between graphs?", [
            Finding("random graphs", "a graph failed once and passed when built again", repr(smallest))]
    return f"WRONG at graph {count[1]} (shrunk to {len(smallest.nodes())} nodes)", [finding]


def _facts(report: EngineReport) -> Facts:
    """What the checks so far showed about the engine."""
    verdicts = dict(report.results)
    right = [verdicts.get(name) == "ok" for name in ("a + a", "a * a", "a diamond")]
    wrong = {name for name, form in FORMS.items()
             for f in report.findings if f.check == "each op alone" and f.title.startswith(f"{form.label}: ")}
    return Facts(accumulates=all(right), visits_once=right[2], wrong_alone=wrong)


_CHECKS: Tuple[Tuple[str, Callable[..., Outcome]], ...] = (
    ("each op alone", _each_op),
    ("a + a", _trap("a + a", lambda a: _node("add", a, a), ("add",))),
    ("a * a", _trap("a * a", lambda a: _node("mul", a, a), ("mul",))),
    ("a diamond", _trap("a diamond", _diamond, ("add", "mul"))),
    ("a 2,000-deep chain", _chain),
    ("backward() twice", _twice),
    ("random graphs", _random),
)


def _wrap(text: str, width: int = 96) -> List[str]:
    return textwrap.wrap(text, width) if text else []
