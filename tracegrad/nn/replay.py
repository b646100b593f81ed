"""A recorded model brought back: its shape as data, rebuilt at a snapshot's weights, run fast.

A training page evaluates the model thousands of times per snapshot (the decision boundary over
a grid, each neuron's output over the input plane). :func:`describe` writes an MLP, Layer or
Neuron down as data (saved with the recording), :func:`rebuild` makes it again, and
:class:`FloatForward` runs it on plain floats, neuron by neuron, through the op table's own
forward functions: the same numbers as the model's Values, bit for bit, without building a graph.

>>> from tracegrad.nn import MLP
>>> model = MLP(2, [3, 1], activation="tanh", rng=0)
>>> shape = describe(model)
>>> shape["layers"][0]
{'size': 3, 'activation': 'tanh', 'slope': 0.01}
>>> fast = FloatForward(shape)
>>> fast.load([p.data for p in model.parameters()])
>>> fast.columns([[0.5, -1.0], [1.0, 2.0]])[-1] == [[model([0.5, -1.0]).data, model([1.0, 2.0]).data]]
True
"""

from __future__ import annotations

import contextlib
from itertools import repeat
from operator import add, mul
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from ..engine import OPS, Value, no_grad
from . import losses
from .mlp import ACTIVATIONS, MLP, Layer, Neuron
from .module import Module

if TYPE_CHECKING:
    from .record import Recording, Snapshot

LOSSES = ("mse", "hinge", "binary_cross_entropy", "softmax_cross_entropy")
"""The losses of :mod:`tracegrad.nn.losses` a recording keeps by name (a page can then use them after loading)."""
KINDS = ("MLP", "Layer", "Neuron")
"""The models :func:`describe` can write down (any other model is replayed through itself, live)."""



def _neurons(model: Any) -> Optional[List[List[Neuron]]]:
    if isinstance(model, MLP):
        return [list(layer.neurons) for layer in model.layers]
    if isinstance(model, Layer):
        return [list(model.neurons)]
    if isinstance(model, Neuron):
        return [[model]]
    return None


def describe(model: Any) -> Optional[Dict[str, Any]]:
    """An MLP, Layer or Neuron as data: ``{"kind", "inputs", "layers": [{"size", "activation", "slope"}]}``.

    None for any other model, or one whose neurons in a layer differ in activation (it cannot be
    rebuilt from this description).
    """
    layers = _neurons(model)
    if layers is None or type(model).__name__ not in KINDS:
        return None
    shape: List[Dict[str, Any]] = []
    for neurons in layers:
        kinds = {(n.activation, n.slope) for n in neurons}
        if len(kinds) != 1:
            return None
        ((activation, slope),) = kinds
        shape.append({"size": len(neurons), "activation": activation, "slope": slope})
    return {"kind": type(model).__name__, "inputs": len(layers[0][0].w), "layers": shape}


def check_description(shape: Any) -> Optional[str]:
    """What is wrong with a model description read from a file, or None if it can be rebuilt."""
    if not isinstance(shape, dict) or shape.get("kind") not in KINDS:
        return f"model kind must be one of {', '.join(KINDS)}"
    inputs, layers = shape.get("inputs"), shape.get("layers")
    if isinstance(inputs, bool) or not isinstance(inputs, int) or not 1 <= inputs <= 10_000:
        return "model inputs must be a whole number from 1 to 10000"
    if not isinstance(layers, list) or not 1 <= len(layers) <= 100:
        return "model layers must be a list of 1 to 100 layers"
    if shape["kind"] != "MLP" and len(layers) != 1:
        return f"a {shape['kind']} has one layer"
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict) or set(layer) != {"size", "activation", "slope"}:
            return f"model layer {i} must hold size, activation and slope"
        size, slope = layer["size"], layer["slope"]
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 10_000:
            return f"model layer {i}: size must be a whole number from 1 to 10000"
        if shape["kind"] == "Neuron" and size != 1:
            return "a Neuron's layer has size 1"
        if layer["activation"] not in ACTIVATIONS:
            return f"model layer {i}: unknown activation {str(layer['activation'])[:40]!r}"
        if isinstance(slope, bool) or not isinstance(slope, (int, float)) or slope != slope:
            return f"model layer {i}: slope must be a number"
    return None


def rebuild(shape: Dict[str, Any]) -> Module:
    """A fresh model of the described shape (fused neurons; every weight 0 until loaded).

    Its parameters have the same names, in the same order, as the model described.
    """
    sizes = [shape["inputs"]] + [layer["size"] for layer in shape["layers"]]
    made = [Layer(sizes[i], layer["size"], activation=layer["activation"], slope=float(layer["slope"]),
                  fused=True, rng=0) for i, layer in enumerate(shape["layers"])]
    model: Module
    if shape["kind"] == "Neuron":
        model = made[0].neurons[0]
    elif shape["kind"] == "Layer":
        model = made[0]
    else:
        mlp = MLP(sizes[0], sizes[1:], rng=0, fused=True)
        mlp.layers = made
        mlp._label_parameters()
        model = mlp
    for p in model.parameters():
        p.data = 0.0
    return model


def array_activation(name: str, slope: float, numpy: Any) -> Callable[[Any], Any]:
    """The activation on a NumPy array: the op table's forward for each element, or for the
    piecewise ops the same comparisons written for arrays (a test pins them to the table)."""
    np = numpy
    if name == "linear":
        return lambda a: a
    if name == "relu":  # NaN stays NaN (a != a), as in the op table
        return lambda a: np.where(a > 0, a, np.where(a != a, a, 0.0))
    if name == "leaky_relu":
        return lambda a: np.where(a > 0, a, slope * a)
    if name == "step":
        return lambda a: np.where(a > 0, 1.0, np.where(a != a, a, 0.0))
    each = np.frompyfunc(_activation(name, slope), 1, 1)

    def elementwise(a: Any) -> Any:
        with np.errstate(all="ignore"):  # as Python floats: nan and inf pass through silently
            return each(a).astype(float)

    return elementwise


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:
        return None
    return numpy


def _activation(name: str, slope: float) -> Optional[Callable[[float], float]]:
    """The activation's forward on a float, from the op table (None for ``linear``, the identity)."""
    if name == "linear":
        return None
    forward = OPS[name].forward
    if OPS[name].param is not None:
        return lambda v: forward(v, slope)  # type: ignore[no-any-return]
    return forward  # type: ignore[no-any-return]


class FloatForward:
    """A described model's forward pass on floats, over many inputs at once, every layer kept.

    A neuron is ``b + w0*x0 + w1*x1 + ...`` added in that order (the op table's ``linear``,
    which the model's fused and unfused neurons both compute), then its activation's forward
    from the op table: the same numbers as the model's Values, bit for bit. The sums run a
    column of inputs at a time, which is several times faster than one input at a time; with
    NumPy installed, a column is an array (its element-wise ``+`` and ``*`` are the same IEEE
    operations, so the numbers stay the same bit for bit).

    Args:
        shape: from :func:`describe`.
        numpy: use NumPy when it is installed (None), or never (False).
    """

    def __init__(self, shape: Dict[str, Any], numpy: Optional[bool] = None) -> None:
        self.shape = shape
        self.numpy: Any = _numpy() if numpy is None else None
        self._array_acts = ([array_activation(layer["activation"], float(layer["slope"]), self.numpy)
                             for layer in shape["layers"]] if self.numpy is not None else [])
        self._acts = [_activation(layer["activation"], float(layer["slope"])) for layer in shape["layers"]]
        self._sizes = [shape["inputs"]] + [layer["size"] for layer in shape["layers"]]
        self._weights: List[List[Tuple[Tuple[float, ...], float]]] = []

    @property
    def parameter_count(self) -> int:
        """How many numbers :meth:`load` takes."""
        return sum((nin + 1) * nout for nin, nout in zip(self._sizes, self._sizes[1:]))

    def load(self, parameters: Sequence[float]) -> None:
        """Take the parameters in the model's order (layer by layer, neuron by neuron, weights then bias)."""
        if len(parameters) != self.parameter_count:
            raise ValueError(f"FloatForward: expected {self.parameter_count} parameters, got {len(parameters)}")
        at = 0
        self._weights = []
        for nin, nout in zip(self._sizes, self._sizes[1:]):
            layer = []
            for _ in range(nout):
                layer.append((tuple(parameters[at:at + nin]), parameters[at + nin]))
                at += nin + 1
            self._weights.append(layer)

    def columns(self, inputs: Sequence[Sequence[float]]) -> List[List[List[float]]]:
        """Every neuron's output for every input: ``[layer][neuron][input]`` (the last layer is the output).

        Raises:
            ArithmeticError: an activation overflowed (weights that diverged).
        """
        n = len(inputs)
        if self.numpy is not None and n:
            return self._arrays(inputs)
        column = [[float(v) for v in c] for c in zip(*inputs)] if n else [[] for _ in range(self._sizes[0])]
        result: List[List[List[float]]] = []
        for act, layer in zip(self._acts, self._weights):
            outs = []
            for ws, b in layer:
                total = [b] * n
                for w, xs in zip(ws, column):  # b + w0*x0, then + w1*x1, ...: linear's order
                    total = list(map(add, total, map(mul, repeat(w, n), xs)))
                outs.append(total if act is None else list(map(act, total)))
            result.append(outs)
            column = outs
        return result

    def _arrays(self, inputs: Sequence[Sequence[float]]) -> List[List[List[float]]]:
        np = self.numpy
        column = np.array(inputs, dtype=float).T
        result: List[List[List[float]]] = []
        with np.errstate(all="ignore"):  # overflow gives inf, as with Python floats
            for act, layer in zip(self._array_acts, self._weights):
                outs = np.empty((len(layer), column.shape[1]))
                for j, (ws, b) in enumerate(layer):
                    total = np.full(column.shape[1], b)
                    for w, xs in zip(ws, column):  # b + w0*x0, then + w1*x1, ...: linear's order
                        total = total + w * xs
                    outs[j] = act(total)
                result.append(outs.tolist())
                column = outs
        return result


class Replayer:
    """A recording's model at any of its snapshots: fast outputs on many inputs, and the model
    and loss as Values for drawing one point's graph.

    A model the recording describes is rebuilt (fused: the same numbers); any other model is
    the live one, its parameters set to the snapshot's and put back afterwards. Values a loss
    function captures (a penalty on the live model's weights) are set to the snapshot's too.

    Args:
        recording: what to replay.
        model: the model, for a recording that does not describe it (it must be the one trained).
        loss: the loss function, for a recording whose loss is not one of :mod:`tracegrad.nn.losses`
            (a loaded recording keeps only such a loss, by name).
    """

    def __init__(self, recording: Recording, *, model: Any = None, loss: Optional[Callable[..., Value]] = None) -> None:
        self.recording = recording
        live = recording.live
        self.live_parameters: List[Value] = list(live.parameters) if live is not None else []
        self.fast = FloatForward(recording.model) if recording.model is not None else None
        self.model: Any = rebuild(recording.model) if recording.model is not None else (
            model if model is not None else (live.model if live is not None else None))
        if self.model is not None and recording.model is None and not self.live_parameters:
            self.live_parameters = list(self.model.parameters()) if hasattr(self.model, "parameters") else []
        own = list(self.model.parameters()) if recording.model is not None else []
        self._own = own
        if self.model is not None and recording.model is None and len(self.live_parameters) != len(
                recording.parameter_names):
            raise ValueError(f"replay: the model has {len(self.live_parameters)} parameters, the recording "
                             f"{len(recording.parameter_names)}; pass the model that was trained (a Module)")
        self.loss = loss if loss is not None else (live.loss if live is not None else _named_loss(recording.loss_name))

    @property
    def can_evaluate(self) -> bool:
        """Whether the model can be run (it is described, or alive)."""
        return self.model is not None

    @property
    def parameters(self) -> List[Value]:
        """Every Value that holds a parameter while replaying (rebuilt and live)."""
        return self._own + self.live_parameters

    def outputs(self, snapshot: Snapshot, inputs: Sequence[Sequence[float]]) -> List[List[List[float]]]:
        """``[layer][neuron][input]`` outputs at the snapshot (a model that is not described: its output only).

        Raises:
            ArithmeticError, DomainError: the model overflowed at these parameters (they diverged).
        """
        if self.fast is not None:
            self.fast.load(snapshot.parameters)
            return self.fast.columns(inputs)
        with self.at(snapshot) as (model, _), no_grad():
            outs = [model(list(x)) for x in inputs]
        rows = [[o.data for o in out] if isinstance(out, (list, tuple)) else [out.data] for out in outs]
        return [[list(c) for c in zip(*rows)]]

    @contextlib.contextmanager
    def at(self, snapshot: Snapshot) -> Iterator[Tuple[Any, Optional[Callable[..., Value]]]]:
        """``(model, loss)`` with the parameters at ``snapshot``; live parameters (and their
        gradients) are put back as they were on leaving."""
        if self.model is None:
            raise ValueError("replay: the recording does not describe its model; pass the model")
        saved = [(p.data, p.grad) for p in self.live_parameters]
        try:
            for p, x in zip(self.live_parameters, snapshot.parameters):
                p.data = x
            for p, x in zip(self._own, snapshot.parameters):
                p.data = x
            yield self.model, self.loss
        finally:
            for p, (data, grad) in zip(self.live_parameters, saved):
                p.data, p.grad = data, grad

    def layers(self) -> Optional[List[List[Neuron]]]:
        """The rebuilt model's neurons by layer (None for a model that is not described)."""
        return _neurons(self.model) if self.recording.model is not None else None


def _named_loss(name: Optional[str]) -> Optional[Callable[..., Value]]:
    return getattr(losses, name) if name in LOSSES else None  # type: ignore[no-any-return]

