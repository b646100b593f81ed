"""Every text a learner reads is in the graph's own names: no op-internal name (x, y, out, a
parameter's name) ever shows, on generated graphs with random labels; unnamed values have one name."""

from __future__ import annotations

import io
import json
import keyword
import re
from typing import Iterator, List, Set

from hypothesis import given, settings
from hypothesis import strategies as st

from tracegrad.cli import main
from tracegrad.engine import Value
from tracegrad.engine.ops import OPS, VARIADIC
from tracegrad.testing import Expression, expressions
from tracegrad.viz.formula import Term, instantiate
from tracegrad.viz.frames import frames
from tracegrad.viz.page_data import page_data
from tracegrad.viz.steps import Trace, explain, trace
from tracegrad.viz.timeline import timeline

INTERNAL: Set[str] = {"out", *(n for op in OPS.values() if op.arity != VARIADIC for n in op.input_names),
                      *(op.param for op in OPS.values() if op.param)}
"""The names the op table's formulas use for an op's own inputs, output and parameter."""

WORD = re.compile(r"[A-Za-z_]\w*")

labels = st.text(alphabet="abcdefghijklmnopqrstuvwABCDEFGHIJKLMNOPQRSTUVWαβγ", min_size=1, max_size=4).filter(
    lambda s: s not in INTERNAL and s not in OPS and s not in {"tanh", "exp", "log", "sqrt", "sin", "cos", "abs"})


def words(text: str) -> Set[str]:
    return set(WORD.findall(text))


def texts(t: Trace) -> Iterator[str]:
    """Every sentence and formula of the trace's texts."""
    for record in t.forward:
        yield t.forward_text(record)
    yield t.seed_text()
    for s in t.steps:
        yield t.step_text(s)
        yield t.step_words(s)
        yield s.formula
        yield s.formula_numbers
    yield t.table()


def strings(data: object) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from strings(value)


def leaked(text: str, allowed: Set[str]) -> Set[str]:
    return (words(text) & INTERNAL) - allowed


@settings(max_examples=25)
@given(expressions(n_inputs=3, max_leaves=8), st.lists(labels, min_size=3, max_size=3, unique=True),
       st.data())
def test_no_op_internal_name_in_any_text(e: Expression, names: List[str], data: st.DataObject) -> None:
    leaves = [Value(x, label=name) for x, name in zip(e.inputs, names)]
    root = e(*leaves)
    if not isinstance(root, Value):
        return
    # some unnamed nodes get labels too; the output a label or not
    for v in trace(root, max_nodes=None).values:
        if v.op is not None and data.draw(st.booleans()):
            v.label = data.draw(labels)
    t = trace(root, max_nodes=None)
    allowed = {v.label for v in t.values}  # a user may name a Value x; then x may show
    for text in texts(t):
        assert not leaked(text, allowed), (text, leaked(text, allowed))
    out = io.StringIO()
    explain(root, file=out)
    assert not leaked(out.getvalue(), allowed)
    made = frames(t, render=False)
    for frame in made:
        assert not leaked(frame.text + " " + frame.words + " " + frame.title, allowed)
        for line in frame.source.splitlines():  # every box and edge label (an op's oval shows its symbol)
            if re.match(r"\s*o\d+ \[", line):
                continue
            for label in re.findall(r'(?:label|xlabel)="((?:[^"\\]|\\.)*)"', line):
                assert not leaked(label.replace("\\n", " "), allowed), label
    for text in strings(page_data(t, timeline(t), practice=True)):
        assert not leaked(text, allowed), text


@settings(max_examples=30)
@given(st.lists(labels, min_size=2, max_size=2, unique=True), st.sampled_from(
    ["{a}*{b} + {a}", "tanh({a}*{b} - {b})", "{a}/{b} + exp({a})", "{a}**3 - sigmoid({b})", "log({a}*{a} + 1)/{b}"]))
def test_the_command_line_speaks_the_users_names(names: List[str], shape: str) -> None:
    a, b = (n if n.isidentifier() else "q" + str(i) for i, n in enumerate(names))
    if a == b or {a, b} & INTERNAL or keyword.iskeyword(a) or keyword.iskeyword(b):
        return
    code = main(["trace", shape.format(a=a, b=b), f"{a}=0.7", f"{b}=1.3", "--text"], out=(out := io.StringIO()),
                err=io.StringIO())
    assert code == 0
    assert not leaked(out.getvalue(), {a, b}), out.getvalue()


def test_unnamed_values_have_one_name_everywhere() -> None:
    """The table, the frames and the page call an unnamed value by the same name."""
    p, q = Value(0.5, label="p"), Value(2.0, label="q")
    big = (p * q + p.exp() - q / (p + 2.0))
    root = (big * big).tanh()
    t = trace(root)
    name = t.name(big)
    assert re.fullmatch(r"v\d+", name)
    table = t.table()
    assert f" {name} " in table and re.search(rf"#{t.number[big]}\s+{name} = ", table)
    made = frames(t, render=False)
    assert any(f"#{t.number[big]} {name}" in f.source for f in made)
    data = page_data(t, timeline(t))
    assert json.dumps(data, ensure_ascii=False).count(f"∂{name}") > 0


def test_formulas_substitute_on_the_parsed_form() -> None:
    # a name inside another name is never touched, and substituted terms get parentheses where needed
    assert instantiate("x * y", {"x": Term("xx"), "y": Term("x")}) == "xx·x"
    assert instantiate("1 - out**2", {"out": Term("a + b", 50)}) == "1 - (a + b)²"
    assert instantiate("-x / y**2", {"x": Term("2"), "y": Term("-3", 70, -3.0)}) == "-2/(-3)²"
