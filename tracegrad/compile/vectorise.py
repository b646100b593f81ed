"""The per-sample program as NumPy array operations over the batch: compile's default with NumPy.

Every per-sample value of :mod:`~tracegrad.compile.batch`'s template becomes an array over the
batch, computed by the same arithmetic as the eager engine's, element by element. On top of
that, a neural net's layers become matrix products:

1. *re-fusion*: a fine-grained neuron, ``((b + w0*x0) + w1*x1) + ...`` (``+`` nodes over ``*``
   nodes, each reading one parameter and used once), is read as one ``linear`` node;
2. *layers*: the ``linear`` nodes that read the same inputs, with parameters as weights and bias,
   are one product ``H = W @ X + b`` (a row per neuron, a column per sample);
3. *ReLU blocks*: when each neuron of a layer feeds one ``relu`` and nothing else, the ReLUs are
   one ``where(H > 0, H, 0)``, and a next layer that reads exactly them takes the block as its X.

The chain rule mirrors it (``G @ X.T`` for the weights, ``W.T @ G`` for the inputs). Where the
numbers differ from the eager engine's: a layer's products are added by the matrix product
(BLAS, in its own order) and the gradients over the batch by NumPy's sums, where the eager engine
adds left to right and sample by sample; each sum then differs in its last bits, so results agree
to about 1e-15 relative at a batch of 100 and 1e-13 at 10,000 (relative to the gradients' scale
where a gradient cancels). The loss's sum over the samples is sequential (``cumsum``), as eager.

An op without an array form here (a custom op, ``vpow``) makes the step run as the loop of
:mod:`~tracegrad.compile.loop` instead. Inputs outside an op's domain (``log`` of a negative
number) raise ArithmeticError, and compile runs the step on the eager engine for the error.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Set, Tuple

import numpy as np

from ..engine import OPS, Op
from .batch import Batch, Ref
from .loop import Layout, LoopWriter, Names, literal

_ADD, _MUL, _LINEAR, _LINEAR_RELU, _RELU, _SUM, _POW = (
    OPS[n] for n in ("add", "mul", "linear", "linear_relu", "relu", "sum", "pow"))


class NotVectorisable(Exception):
    """The template holds an op without an array form here."""


# Array forms of the op table's forward rules and partials, element for element the same
# arithmetic as the float code of codegen ({a}, {b}: inputs, {o}: output, {p}: parameter).
_FORWARD: Dict[str, str] = {
    "add": "{a} + {b}", "sub": "{a} - {b}", "mul": "{a} * {b}", "div": "{a} / {b}", "neg": "-{a}",
    "exp": "_np.exp({a})", "log": "_np.log({a})", "sqrt": "_np.sqrt({a})", "tanh": "_np.tanh({a})",
    "sin": "_np.sin({a})", "cos": "_np.cos({a})", "sigmoid": "_sigmoid({a})", "pow": "_np.power({a}, {p})",
    "relu": "_where({a} <= 0, 0.0, {a})", "leaky_relu": "_where({a} > 0, {a}, {p} * {a})",
    "abs": "_where({a} < 0, -{a}, {a})", "step": "_where({a} > 0, 1.0, _where({a} <= 0, 0.0, {a}))",
    "sign": "_where({a} > 0, 1.0, _where({a} < 0, -1.0, _where({a} == 0, 0.0, {a})))",  # NaN for NaN
}
# Where the eager engine refuses the inputs (its error is the message to show)
_REFUSED: Dict[str, str] = {
    "div": "{b} == 0", "exp": "{a} > 709.782712893384", "log": "~({a} > 0)", "sqrt": "{a} < 0",
    "sin": "_np.isinf({a})", "cos": "_np.isinf({a})",
}
_CONTRIBUTIONS: Dict[str, Tuple[str, ...]] = {
    "add": ("{g}", "{g}"), "sub": ("{g}", "-{g}"), "mul": ("{b} * {g}", "{a} * {g}"), "neg": ("-{g}",),
    "div": ("(1.0 / {b}) * {g}", "(-{o} / {b}) * {g}"), "exp": ("{o} * {g}",),
    "log": ("(1.0 / {a}) * {g}",), "sqrt": ("(0.5 / {o}) * {g}",), "tanh": ("(1.0 - {o} * {o}) * {g}",),
    "sigmoid": ("({o} * (1.0 - {o})) * {g}",), "sin": ("_np.cos({a}) * {g}",), "cos": ("(-_np.sin({a})) * {g}",),
    "relu": ("_where({a} > 0, {g}, _where({a} <= 0, 0.0, {a}) * {g})",),  # step(x) * g: NaN at NaN
    "leaky_relu": ("_where({a} > 0, {g}, _where({a} <= 0, {p}, {a}) * {g})",),
    "abs": ("_where({a} > 0, 1.0, _where({a} < 0, -1.0, _where({a} == 0, 0.0, {a}))) * {g}",), "step": ("0.0 * {g}",),
    "sign": ("0.0 * {g}",),
}
# Where a partial is undefined (the eager engine raises DerivativeError)
_UNDEFINED: Dict[str, str] = {"sqrt": "{o} == 0"}


def _sigmoid(x: Any) -> Any:
    """The op table's sigmoid, split by sign so that exp never overflows, over arrays."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _refuse(what: str) -> str:
    return f"raise ArithmeticError({what!r})"


class Blocks:
    """The template's neurons (fused or re-fused), its layers and its ReLU blocks."""

    def __init__(self, batch: Batch) -> None:
        template = batch.template
        self.consumers: List[List[int]] = [[] for _ in template]
        for j, (_, _, refs) in enumerate(template):
            for kind, k in refs:
                if kind == "n":
                    self.consumers[k].append(j)
        for r in batch.reductions:
            self.consumers[r.output].append(-1)  # the reduction reads it
        self.neuron: Dict[int, Tuple[Tuple[Ref, ...], Tuple[Ref, ...], Ref]] = {}  # j -> (ws, xs, b)
        self.absorbed: Set[int] = set()
        self.relu_inside = {j for j, (op, _, _) in enumerate(template) if op is _LINEAR_RELU}
        for j, (op, _, refs) in enumerate(template):
            if op is _LINEAR or op is _LINEAR_RELU:
                n = len(refs) // 2
                self.neuron[j] = (refs[:n], refs[n : 2 * n], refs[-1])
        for j in range(len(template) - 1, -1, -1):
            if template[j][0] is _ADD and j not in self.absorbed:
                self._refuse(template, j)
        groups: Dict[Tuple[Any, ...], List[int]] = {}
        for j, (ws, xs, b) in sorted(self.neuron.items()):
            if all(k == "s" for k, _ in (*ws, b)) and not any(k == "s" for k, _ in xs):
                groups.setdefault((xs, j in self.relu_inside), []).append(j)
        self.layers = list(groups.values())
        self.layer_of = {j: L for L, members in enumerate(self.layers) for j in members}
        self.relus: Dict[int, List[int]] = {}  # layer -> its ReLUs, when each neuron feeds one and only one
        for L, members in enumerate(self.layers):
            readers = [self.consumers[j] for j in members]
            if members[0] in self.relu_inside:  # linear_relu: the neurons are their own ReLUs
                self.relus[L] = list(members)
            elif all(len(c) == 1 and c[0] >= 0 and template[c[0]][0] is _RELU for c in readers):
                self.relus[L] = [c[0] for c in readers]
        self.relu_layer = {r: L for L, rs in self.relus.items() for r in rs}

    def _refuse(self, template: List[Tuple[Op, Any, Tuple[Ref, ...]]], top: int) -> None:
        """Read ``((b + w0*x0) + w1*x1) + ...`` ending at node ``top`` as one neuron, if it is one."""
        ws: List[Ref] = []
        xs: List[Ref] = []
        members: List[int] = []
        j = top
        while template[j][0] is _ADD:
            acc, term = template[j][2]
            wx = self._term(template, term)
            if wx is None:
                return
            ws.append(wx[0])
            xs.append(wx[1])
            members += [j, term[1]]
            if acc[0] == "s":  # the bias: what Python's sum(..., b) starts from
                self.neuron[top] = (tuple(reversed(ws)), tuple(reversed(xs)), acc)
                self.absorbed.update(m for m in members if m != top)
                return
            if acc[0] != "n" or len(self.consumers[acc[1]]) != 1:
                return
            j = acc[1]

    def _term(self, template: List[Tuple[Op, Any, Tuple[Ref, ...]]], ref: Ref) -> Optional[Tuple[Ref, Ref]]:
        """(w, x) if ``ref`` is a node ``w * x`` used once, with exactly one parameter."""
        if ref[0] != "n" or len(self.consumers[ref[1]]) != 1 or template[ref[1]][0] is not _MUL:
            return None
        a, b = template[ref[1]][2]
        if (a[0] == "s") != (b[0] == "s"):
            return (a, b) if a[0] == "s" else (b, a)
        return None


class NumpyWriter(LoopWriter):
    """Writes a batch as ``forward_backward(COLUMNS, P)`` over NumPy arrays (COLUMNS: one array
    per per-sample number, P: the shared leaves' data)."""

    def __init__(self, batch: Batch, wanted: Set[int]) -> None:
        super().__init__(batch, "", wanted)
        for op, _, _ in batch.template:
            if OPS.get(op.name) is not op or (op.name not in _FORWARD and op not in (_LINEAR, _LINEAR_RELU, _SUM)):
                raise NotVectorisable(f"no array form for the op {op.name!r}")
        self.namespace.update(_np=np, _where=np.where, _sigmoid=_sigmoid, _sum=np.sum, _cumsum=np.cumsum)
        self.blocks = Blocks(batch)

    def source(self) -> str:
        b = self.batch
        head = [f"    {', '.join(self.name(v) for v in b.shared)}, = P"] if b.shared else []
        head += ["    PV = _np.array(P)", f"    {', '.join(f'x{k}' for k in range(self._width()))}, = COLUMNS"]
        forward = self._forward()
        tail = self._tail_forward()
        root = self.name(b.out)
        backward = self._backward_arrays()
        grads = ", ".join(f"gp{k} + GP[{k}]" if k in self.wanted else "0.0" for k in range(len(b.shared)))
        comma = "," if len(b.shared) == 1 else ""
        return (
            f"# Generated by tracegrad.compile: one sample's graph of {len(b.template)} nodes as NumPy arrays\n"
            f"# over the batch (traced at {b.n} samples, {len(self.blocks.layers)} layers as matrix products).\n"
            "def forward_backward(COLUMNS, P):\n" + "\n".join(head + forward + tail + backward)
            + f"\n    GP = GP.tolist()\n    return {root}, ({grads}{comma})\n\n\n"
            "def forward(COLUMNS, P):\n" + "\n".join(head + forward + tail) + f"\n    return {root}\n"
        )

    def _width(self) -> int:
        return self.batch.columns + len(self.batch.constants[0])

    # --- forward

    def _forward(self) -> List[str]:
        b, blocks = self.batch, self.blocks
        lines: List[str] = []
        for j, (op, param, refs) in enumerate(b.template):
            if j in blocks.absorbed or (j in blocks.relu_layer and j not in blocks.layer_of):
                continue
            names = [Names.ref(r) for r in refs]
            if j in blocks.layer_of:
                L = blocks.layer_of[j]
                if j == blocks.layers[L][0]:
                    lines += self._layer_forward(L)
            elif j in blocks.neuron:  # a neuron on its own: left to right, as eager adds
                ws, xs, bias = blocks.neuron[j]
                terms = [f"{Names.ref(w)} * {Names.ref(x)}" for w, x in zip(ws, xs)]
                if j in blocks.relu_inside:
                    lines.append(f"    a{j} = {' + '.join([Names.ref(bias), *terms])}")
                    lines.append(f"    s{j} = _where(a{j} <= 0, 0.0, a{j})")
                else:
                    lines.append(f"    s{j} = {' + '.join([Names.ref(bias), *terms])}")
            elif op is _SUM:
                lines.append(f"    s{j} = {' + '.join(names)}")
            else:
                lines += self._row_forward(op, param, names, f"s{j}")
        for c, r in enumerate(b.reductions):  # in sample order, as the eager chain adds
            first = "" if r.start is None else f"_np.array(({self.name(r.start)},)), "
            lines.append(f"    r{c} = float(_cumsum(_np.concatenate(({first}s{r.output},)))[-1])" if first else
                         f"    r{c} = float(_cumsum(s{r.output})[-1])")
        return lines

    def _row_forward(self, op: Op, param: Any, names: List[str], out: str) -> List[str]:
        a, b_ = names[0], names[1] if len(names) > 1 else ""
        p = literal(param, self.namespace)
        lines: List[str] = []
        if op.name in _REFUSED:
            refused = _REFUSED[op.name].format(a=a, b=b_)
            lines.append(f"    if _np.any({refused}): {_refuse(op.name + ': input outside its domain')}")
        if op is _POW:
            where = []
            if param < 0:
                where.append(f"({a} == 0)")
            if not float(param).is_integer():
                where.append(f"({a} < 0)")
            if where:
                lines.append(f"    if _np.any({' | '.join(where)}): {_refuse('pow: input outside its domain')}")
        lines.append(f"    {out} = " + _FORWARD[op.name].format(a=a, b=b_, p=p))
        if op is _POW:
            lines.append(f"    if _np.any(_np.isinf({out}) & _np.isfinite({a})): {_refuse('pow: overflow')}")
        return lines

    def _layer_forward(self, L: int) -> List[str]:
        blocks, members = self.blocks, self.blocks.layers[L]
        ws = [[k for _, k in blocks.neuron[j][0]] for j in members]
        self.namespace[f"_WI{L}"] = np.array(ws, dtype=np.intp).reshape(len(members), -1)
        self.namespace[f"_BI{L}"] = np.array([blocks.neuron[j][2][1] for j in members], dtype=np.intp)
        lines = [f"    W{L} = PV[_WI{L}]", f"    X{L} = {self._x_source(L)[0]}",
                 f"    H{L} = W{L} @ X{L}", f"    H{L} += PV[_BI{L}][:, None]"]
        if members[0] not in blocks.relu_inside:
            lines += [f"    s{j} = H{L}[{i}]" for i, j in enumerate(members)]
        if L in blocks.relus:
            lines.append(f"    R{L} = _where(H{L} <= 0, 0.0, H{L})")
            lines += [f"    s{r} = R{L}[{i}]" for i, r in enumerate(blocks.relus[L])]
        return lines

    def _x_source(self, L: int) -> Tuple[str, Optional[int]]:
        """A layer's inputs: a ReLU block as a whole (``R3``), else its rows stacked."""
        xs = self.blocks.neuron[self.blocks.layers[L][0]][1]
        for L2, relus in self.blocks.relus.items():
            if list(xs) == [("n", r) for r in relus]:
                return f"R{L2}", L2
        return f"_np.stack(({', '.join(Names.ref(x) for x in xs)},))", None

    # --- backward

    def _backward_arrays(self) -> List[str]:
        b = self.batch
        lines = [f"    gp{k} = 0.0" for k in sorted(self.wanted)]
        lines.append(f"    GP = _np.zeros({len(b.shared)})")
        started: Set[str] = {f"p{k}" for k in self.wanted}
        lines.append(f"    g{self.name(b.out)} = 1.0")
        started.add(self.name(b.out))
        lines += self._tail_backward([node for node in b.tail if node not in b.early], started)
        for c, r in enumerate(b.reductions):
            if f"r{c}" not in started:
                lines.append(f"    gr{c} = 0.0")
                started.add(f"r{c}")
            if r.start is not None and r.start in self.names.of:
                self._add(self.name(r.start), f"gr{c}", started, lines, "    ")
        lines += self._samples_backward()
        lines += self._tail_backward([node for node in b.tail if node in b.early], started)
        return lines

    def _samples_backward(self) -> List[str]:
        b, blocks = self.batch, self.blocks
        lines: List[str] = []
        started: Set[int] = set()  # template nodes whose gradient array g s<j> exists
        whole: Set[int] = set()  # ReLU blocks whose gradient GR<L> exists
        for c, r in enumerate(b.reductions):
            lines.append(f"    gs{r.output} = _np.full({b.n}, gr{c})")
            started.add(r.output)

        def add(ref: Ref, code: str) -> None:
            kind, k = ref
            if kind == "s":
                if k in self.wanted:
                    lines.append(f"    GP[{k}] += _sum({code})")
            elif kind == "n" and self.needs[k]:
                lines.append(f"    gs{k} = gs{k} + {code}" if k in started else f"    gs{k} = {code}")
                started.add(k)

        for j in range(len(b.template) - 1, -1, -1):
            op, param, refs = b.template[j]
            if j in blocks.absorbed or not self.needs[j]:
                continue
            if j in blocks.relu_layer:
                L = blocks.relu_layer[j]
                if j == blocks.relus[L][0]:
                    lines += self._relu_block_backward(L, started, whole)
                if j not in blocks.layer_of:
                    continue
            if j in blocks.layer_of:
                L = blocks.layer_of[j]
                if j == blocks.layers[L][0]:
                    self._layer_backward(L, started, whole, add, lines)
                continue
            if j not in started:
                continue
            g = f"gs{j}"
            if j in blocks.relu_inside:  # a ReLU neuron on its own: the gradient of its pre-activation
                lines.append(f"    gs{j} = _where(a{j} > 0, gs{j}, _where(a{j} <= 0, 0.0, a{j}) * gs{j})")
            if j in blocks.neuron:
                ws, xs, bias = blocks.neuron[j]
                for w, x in zip(ws, xs):
                    add(w, f"{Names.ref(x)} * {g}")
                for w, x in zip(ws, xs):
                    add(x, f"{Names.ref(w)} * {g}")
                add(bias, g)
                continue
            names = [Names.ref(r) for r in refs]
            if op is _SUM:
                for ref in refs:
                    add(ref, g)
                continue
            a, b_ = names[0], names[1] if len(names) > 1 else ""
            o, p = f"s{j}", literal(param, self.namespace)
            if op.name in _UNDEFINED:
                lines.append(f"    if _np.any({_UNDEFINED[op.name].format(a=a, b=b_, o=o)}): "
                             f"{_refuse(op.name + ': local derivative undefined')}")
            if op is _POW:
                if param == 0:
                    add(refs[0], f"0.0 * {g}")
                    continue
                if param - 1 < 0:
                    lines.append(f"    if _np.any({a} == 0): {_refuse('pow: local derivative undefined')}")
                if param < 0:  # the op table's n * out / x, refused where it overflows as there
                    lines.append(f"    d{j} = ({p} * {o}) / {a}")
                    lines.append(f"    if _np.any(_np.isinf(d{j}) & _np.isfinite({o})): "
                                 f"{_refuse('pow: local derivative undefined')}")
                    add(refs[0], f"d{j} * {g}")
                    continue
                add(refs[0], f"({p} * {a} ** {literal(param - 1, self.namespace)}) * {g}")
                continue
            for ref, t in zip(refs, _CONTRIBUTIONS[op.name]):
                add(ref, t.format(a=a, b=b_, o=o, g=g, p=p))
        return lines

    def _relu_block_backward(self, L: int, started: Set[int], whole: Set[int]) -> List[str]:
        """The gradient of a ReLU block's layer: ``step(H) * GR`` (NaN where H is), GR being the
        block's gradient (from the next layer as a whole, and from rows read one by one)."""
        relus = self.blocks.relus[L]
        rows = [r for r in relus if r in started]
        if L not in whole and not rows:
            return []
        lines = []
        if rows:
            stacked = "_np.stack((" + ", ".join(f"gs{r}" if r in started else f"_np.zeros({self.batch.n})"
                                                for r in relus) + ",))"
            lines.append(f"    GR{L} = GR{L} + {stacked}" if L in whole else f"    GR{L} = {stacked}")
        return [*lines, f"    G{L} = _where(H{L} > 0, GR{L}, _where(H{L} <= 0, 0.0, H{L}) * GR{L})"]

    def _layer_backward(self, L: int, started: Set[int], whole: Set[int], add: Any, lines: List[str]) -> None:
        """A layer's chain rule, appended to ``lines`` (where ``add`` writes too)."""
        blocks, members = self.blocks, self.blocks.layers[L]
        if L in blocks.relus:
            if not (L in whole or any(r in started for r in blocks.relus[L])):
                return  # no gradient reached this layer
        elif any(j in started for j in members):
            rows = [f"gs{j}" if j in started else f"_np.zeros({self.batch.n})" for j in members]
            lines.append(f"    G{L} = _np.stack(({', '.join(rows)},))")
        else:
            return
        for index, grads in ((f"_WI{L}", f"G{L} @ X{L}.T"), (f"_BI{L}", f"G{L}.sum(axis=1)")):
            if len(set(self.namespace[index].ravel().tolist())) == self.namespace[index].size:
                lines.append(f"    GP[{index}] += {grads}")
            else:  # a parameter read twice in the layer: add each reading
                lines.append(f"    _np.add.at(GP, {index}, {grads})")
        xs = blocks.neuron[members[0]][1]
        if any(kind == "n" and self.needs[k] for kind, k in xs):
            lines.append(f"    GX{L} = W{L}.T @ G{L}")
            _, L2 = self._x_source(L)
            if L2 is not None:
                lines.append(f"    GR{L2} = GR{L2} + GX{L}" if L2 in whole else f"    GR{L2} = GX{L}")
                whole.add(L2)
            else:
                for i, x in enumerate(xs):
                    add(x, f"GX{L}[{i}]")


class NumpyProgram:
    """A batch step as NumPy arrays over the batch; called like the other programs."""

    kind = "numpy"

    def __init__(self, batch: Batch, layout: Layout) -> None:
        self.layout = layout
        self.leaves = tuple(v for v in batch.shared if v not in layout.others)
        wanted = {k for k, v in enumerate(batch.shared) if v not in layout.others and k not in batch.lifted}
        writer = NumpyWriter(batch, wanted)
        self.source = writer.source()
        namespace = writer.namespace
        exec(compile(self.source, "<tracegrad.compile>", "exec"), namespace)
        self._forward_backward = namespace["forward_backward"]
        self._forward = namespace["forward"]
        self._slots = [layout.others.get(v) for v in batch.shared]
        self.n = batch.n
        self.constants = [np.array(column, dtype=np.float64) for column in zip(*batch.constants)]
        self.description = (f"NumPy arrays over {batch.n} samples of a {len(batch.template)}-node graph "
                            f"({len(writer.blocks.layers)} layers as matrix products)")

    def columns(self, flat: List[float]) -> List[Any]:
        """One array per per-sample number: the arguments' (views of one array each), then the
        per-sample constants."""
        columns: List[Any] = []
        n = self.n
        for start, size in self.layout.segments:
            block = np.array(flat[start : start + n * (size or 1)], dtype=np.float64)
            columns.extend([block] if size is None else block.reshape(n, size).T)
        return columns + self.constants

    def _shared(self, flat: List[float], P: List[float]) -> List[float]:
        data = iter(P)
        return [next(data) if position is None else flat[position] for position in self._slots]

    def forward_backward(self, flat: List[float], P: List[float]) -> Tuple[float, Tuple[float, ...]]:
        with np.errstate(all="ignore"):
            out, grads = self._forward_backward(self.columns(flat), self._shared(flat, P))
        return out, tuple(g for position, g in zip(self._slots, grads) if position is None)

    def forward(self, flat: List[float], P: List[float]) -> float:
        with np.errstate(all="ignore"):
            return float(self._forward(self.columns(flat), self._shared(flat, P)))

