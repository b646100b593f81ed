"""Finding the batch in a traced step: one graph per sample, and a sum over the samples.

A training step computes the same thing for every sample of a batch and adds the results up,
``loss = (Σ_i f(x_i, y_i)) * (1/N) + reg``. Written out straight-line, its code grows with the
batch. :func:`analyse` reads the graph of such a step, traced once, and finds

* each sample's nodes: those that read sample i's numbers and no other sample's;
* that every sample's nodes make the same graph as sample 0's (the *template*), reading the
  same parameters: each sample's graph is written as a signature (op, parameter, references to
  its own nodes, its own numbers or a shared leaf), and sample i's must equal sample 0's;
* the *reductions*: chains of ``+`` that add the samples' outputs in sample order (Python's
  ``sum``, a ``+=`` loop) and fused ``sum`` nodes over them (``Value.sum``, the losses' mean);
* the *tail*: what follows the reductions (``* (1/N)``, ``+ reg``) and the nodes that read
  parameters only (the L2 penalty).

A number lifted into the graph during the trace may differ between samples (a target ``fn``
captured as a number, as in ``mse(outputs, Y)``): it becomes a per-sample constant, a column
like the arguments' numbers. Anything else is not a batch, and compile writes straight-line
code as before: a sample whose graph differs (``fn`` branched on the data, ``x ** i``), samples
mixed other than by a sum, a node made of parameters alone that the samples read, a Value that
``fn`` captured per sample.

The analysis also checks what a per-sample program needs to give the eager engine's numbers bit
for bit: in the eager engine's order (:func:`~tracegrad.engine.topological_order`) each
sample's nodes come as one block, in sample order, and every tail node comes before or after
all of them; then the chain rule taken as the eager engine takes it (the tail after the
samples, the samples from the last to the first, the tail before the samples) adds the same
contributions to every gradient in the same order.
"""

from __future__ import annotations

import gc
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Set, Tuple, TypeVar

from ..engine import OPS, Op, Value, topological_order

MIXED = -1
"""The owner of a node that reads several samples."""

_ADD, _SUM, _LINEAR, _LINEAR_RELU = OPS["add"], OPS["sum"], OPS["linear"], OPS["linear_relu"]

Ref = Tuple[str, int]
"""An input of a template node: ``("n", j)`` template node j, ``("x", k)`` the sample's k-th
number (the arguments' numbers, then the per-sample constants), ``("s", k)`` shared leaf k."""

T = TypeVar("T")
_INT = {int}
Found = List[Tuple[Optional[Value], List[Value], Value]]  # per reduction: start, the samples' outputs, end


_REFS: Dict[str, List[Ref]] = {"x": [], "n": []}


def _refs(kind: str, n: int) -> List[Ref]:
    """``[(kind, 0), (kind, 1), ...]``, made once and shared by every sample's signature."""
    made = _REFS[kind]
    made.extend((kind, k) for k in range(len(made), n))
    return made


def _flat(op: Op, refs: Any) -> Tuple[Any, ...]:
    """A signature's refs in the order of the node's inputs: a neuron's (w..., b) and (x...) are
    kept apart while the samples are compared (the first is one object for every sample)."""
    if op is _LINEAR or op is _LINEAR_RELU:
        wb, xs = refs
        return (*wb[:-1], *xs, wb[-1])
    return refs  # type: ignore[no-any-return]


class NotABatch(Exception):
    """The traced graph is not one graph per sample and a sum over them (the message says why)."""


@dataclass
class Reduction:
    """A sum over the samples: ``start + out_0 + out_1 + ... + out_{N-1}``, left to right."""

    start: Optional[Value]
    """What the first sample's output is added to (the 0 that Python's ``sum`` starts from, a
    tail node), or None when the sum starts with the first sample's output."""
    output: int
    """The template node whose value each sample adds."""
    end: Value
    """The traced node that holds the sum over the batch."""


@dataclass
class Batch:
    """What :func:`analyse` found: the per-sample template, the reductions and the tail."""

    n: int
    out: Value
    """The traced output: the last tail node, or a reduction's sum."""
    template: List[Tuple[Op, Any, Tuple[Ref, ...]]]
    """Sample 0's nodes in the eager engine's order: (op, parameter, inputs)."""
    columns: int
    """How many numbers each sample has in the arguments (per-sample constants come after)."""
    constants: List[Tuple[float, ...]]
    """Each sample's per-sample constants."""
    shared: List[Value]
    """The leaves the template and the tail read: parameters, constants, non-batch arguments."""
    reductions: List[Reduction]
    tail: List[Value]
    """The tail's nodes in the eager engine's order."""
    early: Set[Value] = field(default_factory=set)
    """Tail nodes that come before the samples in that order: their chain rule comes after."""
    lifted: Set[int] = field(default_factory=set)
    """The shared leaves (by index) that are numbers lifted during the trace: no gradient."""


def paused_collector(fn: Callable[[], T]) -> T:
    """``fn()`` with the cyclic garbage collector paused: a traced graph has no cycles, and a
    collection would scan its hundreds of thousands of nodes again and again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return fn()
    finally:
        if enabled:
            gc.enable()


def analyse(out: Value, samples: List[List[Value]], constants: Set[Value]) -> Batch:
    """The batch structure of the graph below ``out``, whose sample i reads the leaves
    ``samples[i]``; ``constants`` are the leaves made for numbers lifted during the trace.

    Raises:
        NotABatch: the graph is not a batch, with the reason.
    """
    return paused_collector(lambda: _Analysis(out, samples, constants).batch())


class _Analysis:
    def __init__(self, out: Value, samples: List[List[Value]], constants: Set[Value]) -> None:
        self.out = out
        self.samples = samples
        self.constants = constants
        self.n = len(samples)

    def batch(self) -> Batch:
        self._walk()
        found = self._reductions()
        tail, early = self._tail()
        template, columns, constants, outputs = self._template(found)
        for start, _, _ in found:
            if start is not None and start in self.shared_ref and start not in self.constants and any(
                    r == ("s", self.shared_ref[start]) for _, _, refs in template for r in refs):
                raise NotABatch("a sum over the samples starts from a leaf that the samples read")
        reductions = [Reduction(start, output, end) for (start, _, end), output in zip(found, outputs)]
        lifted = {k for k, leaf in enumerate(self.shared) if leaf in self.constants}
        return Batch(self.n, self.out, template, columns, constants, self.shared, reductions, tail, early, lifted)

    # --- 1. one walk over the eager engine's order: each sample's nodes and signature

    def _walk(self) -> None:
        """In the eager engine's order each sample's nodes come after its first number: cut the
        order there, and in each piece give every node whose inputs are the sample's own numbers
        and nodes or shared leaves its place in the sample's signature. The other nodes (the
        sums over the samples, the tail) are few, and are sorted out afterwards."""
        n, order = self.n, topological_order(self.out)
        leaf_owner = {v: i for i, leaves in enumerate(self.samples) for v in leaves}
        starts = [-1] * n
        for pos, i in enumerate(map(leaf_owner.get, order)):
            if i is not None and starts[i] < 0:
                starts[i] = pos
        if -1 in starts:
            raise NotABatch(f"sample {starts.index(-1)}'s numbers are not used")
        if any(a >= b for a, b in zip(starts, starts[1:])):
            raise NotABatch("the samples' nodes interleave in the eager engine's order")
        self.shared: List[Value] = []
        self.shared_ref: Dict[Value, int] = {}  # a shared leaf -> its index (an int in a signature)
        shared_get = self.shared_ref.get
        self.nodes: List[List[Value]] = []
        self.signatures: List[List[Tuple[Any, ...]]] = []
        self.sample_of: Dict[Value, int] = dict(leaf_owner)
        self.others: List[Tuple[int, Value]] = []  # (position, node): not one sample's
        self.last = 0  # the position of the last sample's last node
        bounds = [0, *starts, len(order)]
        self.leaf_tuples: Dict[int, Any] = {}  # (the traced graph keeps every tuple alive: ids are unique)
        refs_of, leaf_tuples = self._tuple_refs, self.leaf_tuples.get
        for piece in range(n + 1):
            i = piece - 1  # the prefix before sample 0 reads no sample
            local: Dict[Value, Any] = dict(zip(self.samples[i], _refs("x", len(self.samples[i])))) if i >= 0 else {}
            nodes: List[Value] = []
            signature: List[Tuple[Any, ...]] = []
            get = local.get
            seen: Dict[int, Any] = {}  # this piece's refs of the tuples that neurons share
            node_refs = _refs("n", bounds[piece + 1] - bounds[piece])
            for pos in range(bounds[piece], bounds[piece + 1]):
                node = order[pos]
                if node.op is None:
                    if node not in leaf_owner and node not in self.shared_ref:
                        self.shared_ref[node] = len(self.shared)
                        self.shared.append(node)
                    continue
                op = node.op
                if op is _LINEAR or op is _LINEAR_RELU:  # its (w..., b) and (x...), shared with other nodes
                    a, b = node._a, node._b
                    wb = leaf_tuples(id(a)) or refs_of(a, get, seen)
                    xs = seen.get(id(b)) or refs_of(b, get, seen)
                    refs: Any = (wb[0], xs[0])  # written out by _flat
                    mine, foreign, param = wb[1] or xs[1], wb[2] or xs[2], None
                else:
                    inputs = node.inputs
                    refs = tuple(map(get, inputs, map(shared_get, inputs)))  # None: not this sample's, not shared
                    kinds = set(map(type, refs))
                    mine, foreign, param = tuple in kinds, type(None) in kinds, node.param
                if foreign or not mine:  # another sample's input, or shared leaves only
                    self.others.append((pos, node))
                    continue
                local[node] = node_refs[len(nodes)]
                nodes.append(node)
                signature.append((op, param, refs))
                if i == n - 1:
                    self.last = pos
            if i >= 0:
                self.nodes.append(nodes)
                self.signatures.append(signature)
                self.sample_of.update(zip(nodes, [i] * len(nodes)))
        self.starts = starts
        self._sort_others()

    def _tuple_refs(self, items: Tuple[Value, ...], get: Any, seen: Dict[int, Any]) -> Any:
        """The refs of a tuple of inputs that neurons share, and their kinds, worked out once: a
        tuple of shared leaves (a neuron's parameters) once for all samples, any other once per
        sample (a layer's inputs, read by all its neurons)."""
        found = self.leaf_tuples.get(id(items)) or seen.get(id(items))
        if not found:
            refs = tuple(map(get, items, map(self.shared_ref.get, items)))
            kinds = set(map(type, refs))
            found = (refs, tuple in kinds, type(None) in kinds)  # the refs, any of the sample's, any foreign
            if kinds != _INT:
                seen[id(items)] = found
            elif sys.getrefcount(items) > 4:  # read by other nodes too (a tuple of one node's is not kept)
                self.leaf_tuples[id(items)] = found
        return found

    def _sort_others(self) -> None:
        """The nodes outside the samples: MIXED (several samples), unowned (shared leaves and
        unowned nodes only), or stray (one sample's, out of its place: a sum's first link)."""
        self.owner: Dict[Value, int] = {}
        self.mixed: List[Value] = []
        self.unowned: List[Value] = []
        self.stray: Dict[Value, int] = {}
        self.position: Dict[Value, int] = {}
        sample_of, owner = self.sample_of.get, self.owner.get
        for pos, node in self.others:
            found = {sample_of(x, owner(x)) for x in node.inputs}
            found.discard(None)
            self.position[node] = pos
            if not found:
                self.unowned.append(node)
            elif len(found) == 1 and MIXED not in found:
                sample: int = found.pop()  # type: ignore[assignment]
                self.stray[node] = self.owner[node] = sample
                if not (node.op is _ADD and self._first_link(node)):
                    raise NotABatch("the samples read a node made of parameters alone" if any(
                        x.op is not None and x in self.unowned for x in node.inputs) else
                        "the samples' nodes interleave in the eager engine's order")
            else:
                self.owner[node] = MIXED
                self.mixed.append(node)
        if self.owner.get(self.out) != MIXED:
            raise NotABatch("the output does not depend on several samples")

    def _first_link(self, node: Value) -> bool:
        """Whether ``node`` can be a sum's first link, ``c + out_0``: sample 0's output and a node
        (or leaf) that reads no sample."""
        a, b = node.inputs
        return any(self._sample(o) == 0 and self.owner.get(c, self._sample(c)) is None for c, o in ((a, b), (b, a)))

    def _sample(self, node: Any) -> Optional[int]:
        """The sample whose node (or number) ``node`` is, or None."""
        return self.sample_of.get(node)

    # --- 2. the reductions: + chains and fused sums that add the samples' outputs in order

    def _reductions(self) -> Found:
        found: Found = []
        self.reducing: Set[Value] = set()
        links: Dict[Value, Tuple[Value, Value]] = {}  # chain node -> (the running sum, a sample's output)
        for node in self.mixed:
            if node.op is _SUM and all(self._sample(x) is not None for x in node.inputs):
                found.append((None, list(node.inputs), node))
                self.reducing.add(node)
            elif node.op is _ADD:
                a, b = node.inputs
                if self._sample(b) is not None:
                    links[node] = (a, b)
                elif self._sample(a) is not None:
                    links[node] = (b, a)
        running = {acc for acc, _ in links.values()}
        for end in self.mixed:
            if end in links and end not in running:  # the top of a chain
                found.append(self._chain(end, links))
        for _, outs, _ in found:
            if [self._sample(x) for x in outs] != list(range(self.n)):
                raise NotABatch("a sum over the samples that is not in sample order, or misses a sample")
        read = [x for _, outs, _ in found for x in outs]
        if len(set(read)) != len(read):
            raise NotABatch("a sample's output is added by two sums")
        if not found:
            raise NotABatch("no sum over the samples (a chain of + or a fused sum)")
        if self.stray:
            raise NotABatch("a sample's node sits outside the sample (it reads a node of parameters alone, "
                            "or the samples' nodes interleave)")
        return found

    def _chain(self, end: Value, links: Dict[Value, Tuple[Value, Value]]) -> Tuple[Optional[Value], List[Value], Value]:
        outs: List[Value] = []
        node: Value = end
        while node in links:
            self.reducing.add(node)
            node, out = links[node]
            outs.append(out)
        start: Optional[Value] = None
        if node.op is _ADD and (self._sample(node) == 0 or node in self.stray):  # c + out_0: the chain's first link
            a, b = node.inputs
            for c, o in ((a, b), (b, a)):
                if self._sample(c) is None and self.owner.get(c) is None and self._sample(o) == 0:
                    if node in self.stray:
                        del self.stray[node]
                    elif self.nodes[0][-1] is node:  # the last of sample 0's nodes: not sample 0's
                        self.nodes[0].pop()
                        self.signatures[0].pop()
                        del self.sample_of[node]
                    else:
                        break
                    self.reducing.add(node)
                    self.position[node] = self.starts[0]
                    start, node = c, o
                    break
        outs.append(node)
        outs.reverse()
        return start, outs, end

    # --- 3. the tail: what follows the reductions, and the nodes of parameters alone

    def _tail(self) -> Tuple[List[Value], Set[Value]]:
        tail = [node for node in self.mixed if node not in self.reducing] + self.unowned
        tail.sort(key=self.position.__getitem__)
        for node in tail:
            if any(self._sample(x) is not None for x in node.inputs):
                raise NotABatch("a node mixes samples other than by a sum (a product of two samples, a "
                                "normalisation over the batch)")
        begin, finish = self.starts[0], self.last
        early = {node for node in tail if self.position[node] < begin}
        if any(begin < self.position[node] < finish for node in tail):
            raise NotABatch("a node of parameters alone comes between the samples in the eager engine's order")
        return tail, early

    # --- 4. the template: every sample's graph must be sample 0's

    def _outputs(self, found: Found) -> List[Optional[int]]:
        """Where each reduction's output of sample 0 is among sample 0's nodes."""
        index = {node: k for k, node in enumerate(self.nodes[0])}
        return [index.get(outs[0]) for _, outs, _ in found]

    def _template(self, found: Found) -> Tuple[
            List[Tuple[Op, Any, Tuple[Ref, ...]]], int, List[Tuple[float, ...]], List[int]]:
        sig0 = self.signatures[0]
        maybe = self._outputs(found)
        if None in maybe:
            raise NotABatch("a sample's output is not one of that sample's nodes")
        outs0: List[int] = maybe  # type: ignore[assignment]
        slots0, abstract0 = self._abstract(sig0)
        rows: List[List[Value]] = []
        for i in range(1, self.n):
            sig = self.signatures[i]
            if sig == sig0:
                rows.append(slots0)  # the same leaves as sample 0
            else:
                slots, abstract = self._abstract(sig)
                if abstract != abstract0:
                    raise NotABatch(f"sample {i}'s graph differs from sample 0's")
                rows.append(slots)
            if any(outs[i] is not self.nodes[i][k] for (_, outs, _), k in zip(found, outs0)):
                raise NotABatch(f"sample {i}'s output is not where sample 0's is")
        differ = [row for row in rows if row is not slots0]
        varying = [k for k in range(len(slots0)) if any(row[k] is not slots0[k] for row in differ)]
        for k in varying:
            for leaf in [slots0[k]] + [row[k] for row in differ]:
                if leaf not in self.constants:
                    raise NotABatch("each sample reads a Value of its own that fn captured (pass it as an argument)")
        columns = len(self.samples[0])
        column_of = {k: columns + c for c, k in enumerate(varying)}
        slot = iter(range(len(slots0)))
        template: List[Tuple[Op, Any, Tuple[Ref, ...]]] = []
        for op, param, refs in sig0:
            new: List[Ref] = []
            for r in _flat(op, refs):
                if r.__class__ is int:  # a shared leaf
                    s = next(slot)
                    new.append(("x", column_of[s]) if s in column_of else ("s", r))
                else:
                    new.append(r)
            template.append((op, param, tuple(new)))
        constants = [tuple(slots0[k].data for k in varying)] + [tuple(row[k].data for k in varying) for row in rows]
        return template, columns, constants, outs0

    def _abstract(self, signature: List[Tuple[Any, ...]]) -> Tuple[List[Value], List[Tuple[Any, ...]]]:
        """The shared leaves a signature reads, one slot per reading, and the signature with each
        replaced by its slot's kind: a parameter keeps its rank among the parameters (two readings
        of one parameter stay one parameter), each reading of a lifted number is a slot of its own
        (whether two lifted numbers coincide may differ between samples)."""
        slots: List[Value] = []
        rank: Dict[Value, int] = {}
        abstract: List[Tuple[Any, ...]] = []
        shared = self.shared
        for op, param, refs in signature:
            new: List[Any] = []
            for r in _flat(op, refs):
                if r.__class__ is int:
                    leaf = shared[r]
                    slots.append(leaf)
                    r = ("c",) if leaf in self.constants else ("p", rank.setdefault(leaf, len(rank)))
                new.append(r)
            abstract.append((op, param, tuple(new)))
        return slots, abstract
