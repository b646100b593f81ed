"""A generated expression graph as an object: call it on Values, floats or complex numbers, and
print it as Python source a person can paste into a test.

:func:`tracegrad.check.strategies.expressions` draws these; the graph is a tree of :class:`Node`
with shared subexpressions, over the op table (custom ops included).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from ..engine import Value, apply
from ..engine import ops as op_table
from ..engine.ops import OPS, Op


class Node:
    """One node of a generated expression: an input, a constant, or an op on other nodes.

    ``value`` is its float value at the example's inputs, known while the graph is built, which
    is how each op's inputs are placed inside its domain without filtering.
    """

    __slots__ = ("children", "index", "op", "param", "value")

    def __init__(
        self, value: float, op: Optional[Op] = None, children: Tuple[Node, ...] = (),
        param: Optional[float] = None, index: Optional[int] = None,
    ) -> None:
        self.value = value
        self.op = op
        self.children = children
        self.param = param
        self.index = index


def run_checked(op: Op, args: Sequence[Any]) -> Any:
    """The op's forward on numbers, refusing inputs its check refuses."""
    if op.check is not None and not any(isinstance(a, complex) for a in args):
        reason = op.check(*args)
        if reason:
            raise op.fail(args, reason)
    return op.forward(*args)


class Expression:
    """A generated expression graph: call it like the function its source defines.

    Attributes:
        inputs: the example's input values (a list of floats).
        names: the inputs' names in the source (``x0``, ``x1``, ...).
        output: the root :class:`Node`.
    """

    def __init__(self, output: Node, inputs: Sequence[float]) -> None:
        self.output = output
        self.inputs = list(inputs)
        self.names = [f"x{i}" for i in range(len(self.inputs))]

    def nodes(self) -> List[Node]:
        """Every node once, each after its children (an iterative depth-first walk)."""
        order: List[Node] = []
        seen = set()
        stack: List[Tuple[Node, bool]] = [(self.output, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(node.children))
        return order

    @property
    def op_names(self) -> List[str]:
        """The names of the ops this graph uses, sorted."""
        return sorted({n.op.name for n in self.nodes() if n.op is not None})

    def leaves(self) -> List[Value]:
        """Fresh leaf Values holding the inputs, labelled with their names."""
        return [Value(x, label=name) for x, name in zip(self.inputs, self.names)]

    def __call__(self, *args: Any) -> Any:
        """Evaluate at ``args``: Values build a graph (with ``apply``, as the source does),
        floats and complex numbers run the op table's forwards."""
        if len(args) != len(self.inputs):
            raise TypeError(f"expression: takes {len(self.inputs)} inputs, got {len(args)}")
        results: Dict[int, Any] = {}
        for node in self.nodes():
            if node.index is not None:
                result = args[node.index]
            elif node.op is None:
                result = node.value
            else:
                kids = [results[id(c)] for c in node.children]
                if any(isinstance(k, Value) for k in kids):
                    result = apply(node.op, *kids, param=node.param)
                else:
                    result = run_checked(node.op, kids + ([] if node.param is None else [node.param]))
            results[id(node)] = result
        return results[id(self.output)]

    @property
    def source(self) -> str:
        """Python source defining ``f`` and ``inputs``, to paste into a test."""
        nodes = self.nodes()
        uses: Dict[int, int] = {}
        for node in nodes:
            for c in node.children:
                uses[id(c)] = uses.get(id(c), 0) + 1
        text: Dict[int, Tuple[str, int]] = {}
        lines: List[str] = []
        imports: Set[str] = set()
        for node in nodes:
            rendered = self._render(node, text, imports)
            if node.op is not None and uses.get(id(node), 0) > 1 and node is not self.output:
                name = f"t{len(lines)}"
                lines.append(f"    {name} = {rendered[0]}")
                rendered = (name, _ATOM)
            text[id(node)] = rendered
        lines.append(f"    return {text[id(self.output)][0]}")
        head = [f"from tracegrad import {', '.join(sorted(imports))}", "", ""] if imports else []
        signature = f"def f({', '.join(self.names)}):"
        inputs = f"inputs = [{', '.join(repr(x) for x in self.inputs)}]"
        return "\n".join([*head, signature, *lines, "", "", inputs])

    def _render(self, node: Node, text: Dict[int, Tuple[str, int]], imports: Set[str]) -> Tuple[str, int]:
        if node.index is not None:
            return self.names[node.index], _ATOM
        if node.op is None:
            return repr(node.value), (_UNARY if node.value < 0 or repr(node.value).startswith("-") else _ATOM)
        op, kids = node.op, [text[id(c)] for c in node.children]
        if op.name in _INFIX:
            level, left, right = _INFIX[op.name]
            return f"{_wrap(kids[0], left)} {op.symbol} {_wrap(kids[1], right)}", level
        if op.name == "neg":
            return f"-{_wrap(kids[0], _POWER)}", _UNARY
        if op.name == "pow":
            return f"{_wrap(kids[0], _ATOM)} ** {_number(node.param)}", _POWER
        if op.name == "abs" and OPS.get("abs") is op_table.OPS["abs"]:
            return f"abs({kids[0][0]})", _ATOM
        args = ", ".join(k[0] for k in kids)
        if op.name == "sum" and op is BUILTIN.get("sum"):
            imports.add("value_sum")
            return f"value_sum([{args}])", _ATOM
        if op.name == "linear" and op is BUILTIN.get("linear"):
            imports.add("linear")
            m = (len(kids) - 1) // 2
            ws, xs = ", ".join(k[0] for k in kids[:m]), ", ".join(k[0] for k in kids[m:-1])
            return f"linear([{ws}], [{xs}], {kids[-1][0]})", _ATOM
        if op.name == "linear_relu" and op is BUILTIN.get("linear_relu"):
            imports.add("neuron")
            m = (len(kids) - 1) // 2
            ps, xs = ", ".join(k[0] for k in [*kids[:m], kids[-1]]), ", ".join(k[0] for k in kids[m:-1])
            return f"neuron([{ps}], [{xs}], relu=True)", _ATOM
        if op.name in _FUNCTIONS and op is BUILTIN.get(op.name):
            imports.add(op.name)
            extra = "" if node.param is None else f", {_number(node.param)}"
            return f"{op.name}({args}{extra})", _ATOM
        imports.add("OPS")
        extra = "" if node.param is None else f", param={_number(node.param)}"
        return f"OPS[{op.name!r}]({args}{extra})", _ATOM

    def __repr__(self) -> str:
        return self.source


_ATOM, _POWER, _UNARY, _PRODUCT, _SUM = 5, 4, 3, 2, 1
_INFIX = {  # name: (level, level needed on the left, on the right); floats do not associate
    "add": (_SUM, _SUM, _PRODUCT),
    "sub": (_SUM, _SUM, _PRODUCT),
    "mul": (_PRODUCT, _PRODUCT, _UNARY),
    "div": (_PRODUCT, _PRODUCT, _UNARY),
    "vpow": (_POWER, _ATOM, _ATOM),
}
_FUNCTIONS = {"exp", "log", "sqrt", "tanh", "sigmoid", "relu", "leaky_relu", "sin", "cos", "step", "sign"}
BUILTIN = {op.name: op for op in op_table.BUILTIN_OPS + op_table.FUSED_OPS}


def _wrap(rendered: Tuple[str, int], level: int) -> str:
    return rendered[0] if rendered[1] >= level else f"({rendered[0]})"


def _number(x: Optional[float]) -> str:
    return repr(x)
