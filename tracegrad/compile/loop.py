"""The per-sample program: a batch step written once, as a loop over the samples.

:mod:`~tracegrad.compile.batch` finds the template (one sample's graph), the reductions and the
tail; this module writes them out as Python over floats:

* forward: a ``for`` loop over the samples that computes the template and adds each sample's
  output to its reduction in sample order, keeping the values backward needs in one flat list
  (a tuple per sample would be one more object per sample for the garbage collector);
* the tail forward, straight-line, once;
* the chain rule as the eager engine takes it: the tail nodes after the samples, then the
  samples from the last to the first (each in reverse), then the tail nodes before them, every
  parameter's gradient one running local.

So every gradient gets the same contributions in the same order as in ``Value.backward()``: the
numbers are the eager engine's, bit for bit. The code has the same length at any batch size.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from ..engine import OPS, Op, Value
from .batch import Batch, Ref
from .codegen import _CONTRIBUTIONS, _FORWARD, _checked_forward

_LINEAR, _LINEAR_RELU, _SUM, _POW = OPS["linear"], OPS["linear_relu"], OPS["sum"], OPS["pow"]
_INDENT = "        "


def literal(x: Any, namespace: Dict[str, Any]) -> str:
    """``x`` as source text: ``repr`` for a finite number, else a name bound to it (``inf``)."""
    if x is None or (isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)):
        return repr(x)
    name = f"_k{namespace.setdefault('__constants', 0)}"
    namespace["__constants"] += 1
    namespace[name] = x
    return name


def forward_lines(op: Op, param: Any, names: Sequence[str], out: str, namespace: Dict[str, Any]) -> List[str]:
    """``out = op(names...)`` as lines of float code: the op table's forward, written out."""
    template = _FORWARD.get(op.name) if OPS.get(op.name) is op else None
    if template is not None:
        b = names[1] if len(names) > 1 else ""
        return [f"{out} = " + template.format(a=names[0], b=b, p=literal(param, namespace))]
    if op is _LINEAR or op is _LINEAR_RELU:  # b + w0*x0 + w1*x1 + ..., left to right as the engine adds
        n = len(names) // 2
        terms = [f"{w} * {x}" for w, x in zip(names[:n], names[n : 2 * n])]
        if op is _LINEAR:
            return _chain(out, names[-1], terms)
        pre = "a" + out[1:]  # the pre-activation, which the chain rule reads
        return [*_chain(pre, names[-1], terms), f"{out} = 0.0 if {pre} <= 0 else {pre}"]  # NaN goes through
    if op is _SUM:
        return _chain(out, names[0], list(names[1:]))
    if op.forward is None:
        raise TypeError(f"compile: the graph holds a node made with Value(data, children, {op.symbol!r}),"
                        " which has no forward rule to replay")
    fn = _bind(namespace, f"_{op.name}", op, "forward", lambda: _checked_forward(op))
    return [f"{out} = {fn}({', '.join(_args(op, param, names, namespace))})"]


def contributions(op: Op, param: Any, names: Sequence[str], out: str, g: str,
                  namespace: Dict[str, Any], lines: List[str]) -> List[Tuple[int, str]]:
    """``local * upstream`` for each input position of a node, as code (the op table's partials);
    a line that computes the partials together, if the op needs one, goes to ``lines``."""
    template = _CONTRIBUTIONS.get(op.name) if OPS.get(op.name) is op else None
    if template is not None:
        b = names[1] if len(names) > 1 else ""
        return [(i, t.format(a=names[0], b=b, o=out, g=g)) for i, t in enumerate(template)]
    if op is _POW and param >= 0:  # for n < 0, the op table's partial below
        n_, n_1 = literal(param, namespace), literal(param - 1, namespace)
        local = "0.0" if param == 0 else f"({n_} * {names[0]} ** {n_1})"
        return [(0, f"{local} * {g}")]
    if op is _LINEAR or op is _LINEAR_RELU:  # linear_relu's where it is alive: the caller sees to it
        n = len(names) // 2
        ws = [(i, f"{names[n + i]} * {g}") for i in range(n)]
        return [*ws, *[(n + i, f"{names[i]} * {g}") for i in range(n)], (2 * n, g)]
    if op is _SUM:
        return [(i, g) for i in range(len(names))]
    fn = _bind(namespace, f"_{op.name}_grads", op, "grads", lambda: op.grads)
    local = "d" + out
    lines.append(f"{local} = {fn}({', '.join(_args(op, param, names, namespace))}, {out})")
    return [(i, f"{local}[{i}] * {g}") for i in range(len(names))]


def _times_step(contribution: str, g: str, out: str) -> str:
    """``partner * g`` as ``partner * out * g``, ``g`` as ``out * g``: a ReLU neuron's step(out)
    where it is not alive, which is ``out`` itself (0.0, or NaN)."""
    return f"{out} * {g}" if contribution == g else contribution[: -len(g)] + f"{out} * {g}"


def _args(op: Op, param: Any, names: Sequence[str], namespace: Dict[str, Any]) -> List[str]:
    return [*names, literal(param, namespace)] if op.arity != 2 and param is not None else list(names)


def _bind(namespace: Dict[str, Any], base: str, op: Op, kind: str, make: Callable[[], Any]) -> str:
    """A name in the generated code's namespace for one of an op's functions."""
    key = f"__{kind}_of_{id(op)}"  # which name this op's function has
    if key not in namespace:
        name = base if base.isidentifier() and base not in namespace else f"_op{len(namespace)}"
        namespace[name] = make()
        namespace[key] = name
    return namespace[key]  # type: ignore[no-any-return]


def _chain(out: str, first: str, terms: List[str], width: int = 64) -> List[str]:
    lines = [f"{out} = {' + '.join([first, *terms[:width]])}"]
    for start in range(width, len(terms), width):
        lines.append(f"{out} = {' + '.join([out, *terms[start : start + width]])}")
    return lines


class Names:
    """The generated code's names: ``x`` a sample's numbers, ``s`` the template's nodes, ``p``
    the shared leaves, ``t`` the tail's nodes, ``r`` the reductions' sums; ``g`` + name is a
    gradient."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch
        self.of: Dict[Value, str] = {leaf: f"p{k}" for k, leaf in enumerate(batch.shared)}
        for c, r in enumerate(batch.reductions):
            self.of[r.end] = f"r{c}"
        for k, node in enumerate(batch.tail):
            self.of[node] = f"t{k}"

    @staticmethod
    def ref(r: Ref) -> str:
        kind, k = r
        return f"{'s' if kind == 'n' else kind if kind == 'x' else 'p'}{k}"


def grads_needed(batch: Batch, wanted: Set[int]) -> List[bool]:
    """Which template nodes depend on a shared leaf whose gradient is wanted (by index)."""
    needs: List[bool] = []
    for _, _, refs in batch.template:
        needs.append(any((kind == "n" and needs[k]) or (kind == "s" and k in wanted) for kind, k in refs))
    return needs


class LoopWriter:
    """Writes a :class:`~tracegrad.compile.batch.Batch` as ``forward_backward(ROWS, P)`` and
    ``forward(ROWS, P)``: ROWS yields each sample's numbers (nested as the arguments' rows are,
    then the per-sample constants), P holds the shared leaves' data."""

    def __init__(self, batch: Batch, rows: str, wanted: Set[int]) -> None:
        self.batch = batch
        self.rows = rows  # the loop's target, e.g. "(x0, x1), x2"
        self.names = Names(batch)
        self.wanted = wanted
        self.namespace: Dict[str, Any] = {"_pow": math.pow, "_exp": math.exp, "_sqrt": math.sqrt,
                                          "_tanh": math.tanh, "_sin": math.sin, "_cos": math.cos,
                                          "_isfinite": math.isfinite}
        self.needs = grads_needed(batch, wanted)

    def name(self, node: Value) -> str:
        return self.names.of[node]

    def source(self) -> str:
        b = self.batch
        head = [f"    {', '.join(self.name(v) for v in b.shared)}, = P"] if b.shared else []
        loop, saved = self._forward_loop(keep=True)
        plain, _ = self._forward_loop(keep=False)
        tail = self._tail_forward()
        root = self.name(b.tail[-1]) if b.tail else f"r{len(b.reductions) - 1}"
        backward = self._backward(saved)
        grads = ", ".join(f"gp{k}" if k in self.wanted else "0.0" for k in range(len(b.shared)))
        comma = "," if len(b.shared) == 1 else ""
        return (
            f"# Generated by tracegrad.compile: one sample's graph of {len(b.template)} nodes, looped over the\n"
            f"# batch (traced at {b.n} samples); the tail once; the chain rule as Value.backward() takes it.\n"
            "def forward_backward(ROWS, P):\n" + "\n".join(head + loop + tail + backward)
            + f"\n    return {root}, ({grads}{comma})\n\n\n"
            "def forward(ROWS, P):\n" + "\n".join(head + plain + tail) + f"\n    return {root}\n"
        )

    def _forward_loop(self, keep: bool) -> Tuple[List[str], List[str]]:
        b = self.batch
        lines: List[str] = []
        for c, r in enumerate(b.reductions):
            lines.append(f"    r{c} = {self.name(r.start) if r.start is not None else 'None'}")
        saved = self._saved() if keep else []
        if keep:
            lines += ["    SAVED = []", "    keep = SAVED.extend"]
        lines.append(f"    for {self.rows} in ROWS:")
        for j, (op, param, refs) in enumerate(b.template):
            lines += [_INDENT + ln for ln in forward_lines(op, param, [Names.ref(r) for r in refs], f"s{j}",
                                                           self.namespace)]
        for c, r in enumerate(b.reductions):
            o = f"s{r.output}"
            add = f"{o} if r{c} is None else r{c} + {o}" if r.start is None else f"r{c} + {o}"
            lines.append(f"{_INDENT}r{c} = {add}")
        if keep and saved:
            lines.append(f"{_INDENT}keep(({', '.join(saved)},))")
        return lines, saved

    def _saved(self) -> List[str]:
        """The per-sample values the chain rule reads: the nodes that pass a gradient on, and
        their inputs that are not shared leaves."""
        names: Dict[str, None] = {}
        for j, (_, _, refs) in enumerate(self.batch.template):
            if self.needs[j]:
                for kind, k in refs:
                    if kind != "s":
                        names[Names.ref((kind, k))] = None
                names[f"s{j}"] = None
                if self.batch.template[j][0] is _LINEAR_RELU:
                    names[f"a{j}"] = None
        return list(names)

    def _tail_forward(self) -> List[str]:
        lines: List[str] = []
        for node in self.batch.tail:
            op: Op = node.op  # type: ignore[assignment]
            lines += ["    " + ln for ln in forward_lines(op, node.param, [self.name(x) for x in node.inputs],
                                                          self.name(node), self.namespace)]
        return lines

    def _backward(self, saved: List[str]) -> List[str]:
        b = self.batch
        lines = [f"    gp{k} = 0.0" for k in sorted(self.wanted)]
        started: Set[str] = {f"p{k}" for k in self.wanted}
        lines.append(f"    g{self.name(b.out)} = 1.0")
        started.add(self.name(b.out))
        late = [node for node in b.tail if node not in b.early]
        lines += self._tail_backward(late, started)
        for c, r in enumerate(b.reductions):
            if f"r{c}" not in started:  # no gradient reached this sum
                lines.append(f"    gr{c} = 0.0")
                started.add(f"r{c}")
            if r.start is not None and r.start in self.names.of:
                self._add(self.name(r.start), f"gr{c}", started, lines, "    ")
        if any(self.needs[r.output] for r in b.reductions) and saved:
            k = len(saved)
            lines.append(f"    for base in range(len(SAVED) - {k}, -1, -{k}):")
            lines.append(f"{_INDENT}{', '.join(saved)}, = SAVED[base:base + {k}]")
            lines += self._sample_backward()
        lines += self._tail_backward([node for node in b.tail if node in b.early], started)
        return lines

    def _add(self, target: str, contribution: str, started: Set[str], lines: List[str], indent: str) -> None:
        if target.startswith("p") and int(target[1:]) not in self.wanted:
            return  # a constant, or a number of the arguments: no gradient
        if target in started:
            lines.append(f"{indent}g{target} += {contribution}")
        else:
            started.add(target)
            lines.append(f"{indent}g{target} = {contribution}")

    def _tail_backward(self, nodes: List[Value], started: Set[str]) -> List[str]:
        lines: List[str] = []
        for node in reversed(nodes):
            me = self.name(node)
            if me not in started:
                continue
            op: Op = node.op  # type: ignore[assignment]
            names = [self.name(x) for x in node.inputs]
            pre: List[str] = []
            steps = contributions(op, node.param, names, me, f"g{me}", self.namespace, pre)
            lines += ["    " + ln for ln in pre]
            for i, c in steps:
                self._add(names[i], c, started, lines, "    ")
        return lines

    def _sample_backward(self) -> List[str]:
        b = self.batch
        lines: List[str] = []
        started: Set[str] = {f"p{k}" for k in self.wanted}
        for c, r in enumerate(b.reductions):
            lines.append(f"{_INDENT}gs{r.output} = gr{c}")
            started.add(f"s{r.output}")
        for j in range(len(b.template) - 1, -1, -1):
            op, param, refs = b.template[j]
            me = f"s{j}"
            if not self.needs[j] or me not in started:
                continue
            names = [Names.ref(r) for r in refs]
            pre: List[str] = []
            steps = [(names[i], c) for i, c in contributions(op, param, names, me, f"g{me}", self.namespace, pre)
                     if self._gets_gradient(refs[i])]
            lines += [_INDENT + ln for ln in pre]
            if op is _LINEAR or op is _LINEAR_RELU:
                for target, _ in steps:
                    if target not in started and not target.startswith("p"):
                        started.add(target)
                        lines.append(f"{_INDENT}g{target} = 0.0")
                # skipped when its upstream gradient is 0 and its value finite, as in eager
                inner = _INDENT + ("    " if op is _LINEAR_RELU else "")
                if op is _LINEAR_RELU:
                    lines.append(f"{_INDENT}if {me} > 0:")
                lines.append(f"{inner}if g{me} or not _isfinite({me}):")
                lines += [f"{inner}    g{target} += {c}" for target, c in steps]
                if op is _LINEAR_RELU:  # dead (0) or NaN: each step adds (partner·out)·g, 0 unless inf or nan is about
                    lines.append(f"{_INDENT}elif not (_isfinite(g{me}) and _isfinite(a{j})):")
                    lines += [f"{_INDENT}    g{target} += {_times_step(c, f'g{me}', me)}" for target, c in steps]
                continue
            for name, code in steps:
                self._add(name, code, started, lines, _INDENT)
        return lines

    def _gets_gradient(self, r: Ref) -> bool:
        kind, k = r
        return (kind == "n" and self.needs[k]) or (kind == "s" and k in self.wanted)


def loop_target(shapes: Sequence[Optional[int]], constants: int, first: int = 0) -> str:
    """The loop's target for rows made of the arguments' items and the per-sample constants:
    ``(x0, x1), x2, (x3,)`` for an item of two numbers, an item that is a number, one constant."""
    parts: List[str] = []
    k = first
    for size in list(shapes) + ([constants] if constants else []):
        if size is None:
            parts.append(f"x{k}")
            k += 1
        else:
            parts.append("(" + ", ".join(f"x{k + i}" for i in range(size)) + ("," if size == 1 else "") + ")")
            k += size
    return ", ".join(parts) + ("," if len(parts) == 1 else "")


class Layout:
    """Where a batch's numbers sit in the flattened arguments: for each argument that is a batch,
    its offset and the size of its items (None: each item is a number); the offsets of the other
    arguments' numbers, which every sample shares."""

    def __init__(self, n: int, segments: List[Tuple[int, Optional[int]]], others: Dict[Value, int]) -> None:
        self.n = n
        self.segments = segments
        self.others = others

    def rows(self, flat: List[float], constants: List[Tuple[float, ...]]) -> Any:
        """Each sample's numbers, nested as :func:`loop_target` unpacks them."""
        parts: List[Any] = []
        for start, size in self.segments:
            segment = flat[start : start + self.n * (size or 1)]
            parts.append(segment if size is None else zip(*[iter(segment)] * size))
        if constants and constants[0]:
            parts.append(constants)
        return zip(*parts)


class LoopProgram:
    """A batch step as a loop over the samples (see :class:`LoopWriter`); called like the
    straight-line :class:`~tracegrad.compile.codegen.Program`, with the flattened arguments and
    the data of :attr:`leaves`."""

    kind = "loop"

    def __init__(self, batch: Batch, layout: Layout) -> None:
        self.layout = layout
        self.leaves = tuple(v for v in batch.shared if v not in layout.others)
        wanted = {k for k, v in enumerate(batch.shared) if v not in layout.others and k not in batch.lifted}
        writer = LoopWriter(batch, loop_target([size for _, size in layout.segments],
                                               len(batch.constants[0])), wanted)
        self.source = writer.source()
        namespace = writer.namespace
        exec(compile(self.source, "<tracegrad.compile>", "exec"), namespace)
        self._forward_backward = namespace["forward_backward"]
        self._forward = namespace["forward"]
        self._slots = [(layout.others.get(v), k) for k, v in enumerate(batch.shared)]
        self.description = f"a loop over {batch.n} samples of a {len(batch.template)}-node graph"
        self.batch = _Kept(batch)  # not the traced graph

    def _shared(self, flat: List[float], P: List[float]) -> List[float]:
        data = iter(P)
        return [next(data) if position is None else flat[position] for position, _ in self._slots]

    def forward_backward(self, flat: List[float], P: List[float]) -> Tuple[float, Tuple[float, ...]]:
        out, grads = self._forward_backward(self.layout.rows(flat, self.batch.constants), self._shared(flat, P))
        return out, tuple(g for (position, _), g in zip(self._slots, grads) if position is None)

    def forward(self, flat: List[float], P: List[float]) -> float:
        return self._forward(self.layout.rows(flat, self.batch.constants), self._shared(flat, P))  # type: ignore[no-any-return]


class _Kept:
    """What a program keeps of its batch: the per-sample constants, and none of the traced graph
    (a reference to a reduction's sum would keep every traced node alive)."""

    def __init__(self, batch: Batch) -> None:
        self.n = batch.n
        self.constants = batch.constants
