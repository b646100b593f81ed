"""Neural nets made of Values: Module, Neuron, Layer, MLP.

Drop-in compatible with micrograd's ``nn`` (same signatures, parameter order, repr, and the same
draws from the global ``random`` module), and more: activations, initialisations, named
parameters, saving and loading, a fused fast path, and conversion to PyTorch.

>>> import random
>>> random.seed(1337)
>>> model = MLP(2, [16, 16, 1])          # ReLU hidden layers, linear output
>>> score = model([Value(0.5), Value(-1.0)])
>>> len(model.parameters())
337
>>> model.parameters()[0].label
'layers.0.neurons.0.w.0'
"""

from __future__ import annotations

import json
import math
import os
import random
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from .data import resolve_seed
from .engine import Value, ValueLike, linear
from .errors import TracegradError
from .files import write_atomic

RngLike = Union[random.Random, int, None, Any]
"""A ``random.Random``, a seed for a new one, or None for the global ``random`` module."""

ACTIVATIONS: Dict[str, Callable[[Value, float], Value]] = {
    "relu": lambda v, slope: v.relu(),
    "tanh": lambda v, slope: v.tanh(),
    "sigmoid": lambda v, slope: v.sigmoid(),
    "step": lambda v, slope: v.step(),
    "linear": lambda v, slope: v,
    "leaky_relu": lambda v, slope: v.leaky_relu(slope),
}
"""The activations a neuron can apply to its pre-activation ``b + Σ w·x``."""

_REPR_NAMES = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "step": "Step", "linear": "Linear",
               "leaky_relu": "LeakyReLU"}

INITS = ("uniform", "xavier", "he")
"""Weight initialisations: micrograd's uniform(-1, 1); Xavier/Glorot uniform; He (normal)."""

FORMAT = "tracegrad.module"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 64 * 1024 * 1024


class LoadError(TracegradError, ValueError):
    """A state dict or model file does not fit the model; the model was left untouched."""


def resolve_rng(rng: RngLike) -> Any:
    """A ``random.Random`` for a seed, the generator given, or the global ``random`` module for None."""
    return resolve_seed(rng, "rng")


def _draw_weight(init: str, rng: Any, nin: int, nout: int) -> float:
    if init == "uniform":
        return float(rng.uniform(-1, 1))
    if init == "xavier":
        bound = math.sqrt(6.0 / (nin + nout))
        return float(rng.uniform(-bound, bound))
    return float(rng.gauss(0.0, math.sqrt(2.0 / nin)))


class Module:
    """Base of every model: parameters by name, gradients, saving and loading.

    Subclasses implement :meth:`named_parameters`; everything else follows from it.
    """

    def named_parameters(self) -> List[Tuple[str, Value]]:
        """``(dotted name, parameter)`` pairs in a stable order, e.g. ``layers.0.neurons.3.w.1``."""
        return []

    def parameters(self) -> List[Value]:
        """The parameters in micrograd's order (layer by layer, neuron by neuron, weights then bias)."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0 (call it before each ``backward``)."""
        for p in self.parameters():
            p.grad = 0.0

    def _label_parameters(self) -> None:
        """Name each parameter after its place in the model, so pictures and errors show it."""
        for name, p in self.named_parameters():
            p.label = name

    # --- state

    def state_dict(self) -> Dict[str, float]:
        """Every parameter's value by name: ``{"layers.0.neurons.0.w.0": 0.23, ...}``."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Any) -> None:
        """Set the parameters from :meth:`state_dict` output.

        Everything is checked before anything is set: the names must match exactly and every
        value must be a finite real number.

        Raises:
            LoadError: what does not match; the model is left as it was.
        """
        if not isinstance(state, dict):
            raise LoadError(f"load_state_dict: expected a dict of parameter values, got {type(state).__name__}")
        params = dict(self.named_parameters())
        missing = [n for n in params if n not in state]
        unexpected = [str(n) for n in state if n not in params]
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing {len(missing)} parameter(s): {_few(missing)}")
            if unexpected:
                parts.append(f"unexpected {len(unexpected)} parameter(s): {_few(unexpected)}")
            raise LoadError(
                f"load_state_dict: the state does not fit {self._short_name()} "
                f"({len(params)} parameters): " + "; ".join(parts)
            )
        values: Dict[str, float] = {}
        for name in params:
            x = state[name]
            try:
                number = float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else math.nan
            except OverflowError:  # an int too large for a float
                number = math.inf
            if not math.isfinite(number):
                raise LoadError(f"load_state_dict: parameter {name!r} must be a finite number, got {_clip(x)}")
            values[name] = number
        for name, p in params.items():
            p.data = values[name]

    def save(self, path: Union[str, os.PathLike[str]]) -> None:
        """Write the parameters to a JSON file, atomically (a crash never leaves half a file).

        Raises:
            ValueError: a parameter is NaN or infinite (such a file could not be loaded back).
        """
        state = self.state_dict()
        for name, x in state.items():
            if not math.isfinite(x):
                raise ValueError(f"save: parameter {name!r} is {x}; refusing to write a model that cannot be loaded")
        doc = {"format": FORMAT, "version": FORMAT_VERSION, "model": self._short_name(), "parameters": state}
        write_atomic(path, json.dumps(doc, indent=1))

    def load(self, path: Union[str, os.PathLike[str]]) -> Module:
        """Read parameters written by :meth:`save` into this model; returns the model.

        Raises:
            LoadError: the file is not a tracegrad model file (truncated, corrupt, hostile) or
                its parameters do not fit this model; the model is left as it was.
        """
        target = os.fspath(path)
        with open(target, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise LoadError(f"load: {target!r} is larger than {MAX_FILE_BYTES} bytes; not a model file")
        try:
            doc = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError) as exc:
            raise LoadError(f"load: {target!r} is not a valid model file ({exc})") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise LoadError(f"load: {target!r} is not a tracegrad model file (no \"format\": {FORMAT!r})")
        if doc.get("version") != FORMAT_VERSION:
            raise LoadError(f"load: {target!r} has format version {doc.get('version')!r}; this tracegrad "
                            f"reads version {FORMAT_VERSION}")
        try:
            self.load_state_dict(doc.get("parameters"))
        except LoadError as exc:
            raise LoadError(f"load: {target!r}: {exc}") from None
        return self

    def _short_name(self) -> str:
        return type(self).__name__


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a finite number")


def _clip(x: Any, limit: int = 60) -> str:
    text = repr(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _few(names: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")


class Neuron(Module):
    """One neuron: ``activation(b + w0*x0 + w1*x1 + ...)``.

    Args:
        nin: number of inputs.
        nonlin: micrograd's switch: ReLU if True, linear if False (ignored if ``activation`` is given).
        activation: one of :data:`ACTIVATIONS` (``"relu"``, ``"tanh"``, ``"sigmoid"``, ``"step"``,
            ``"linear"``, ``"leaky_relu"``).
        init: ``"uniform"`` (micrograd's uniform(-1, 1), the default), ``"xavier"`` or ``"he"``;
            the bias starts at 0.
        rng: a ``random.Random``, a seed, or None to draw from the global ``random`` module, as
            micrograd does.
        fused: compute the pre-activation as one ``linear`` node (the same numbers, bit for bit,
            and a much smaller graph) instead of the chain of ``*`` and ``+`` pictures show.
        slope: the negative slope of ``leaky_relu``.
        fan_out: the layer's width, which Xavier initialisation needs (a layer passes it).

    >>> n = Neuron(2, activation="tanh", rng=0)
    >>> n
    TanhNeuron(2)
    """

    def __init__(
        self,
        nin: int,
        nonlin: Union[bool, str] = True,
        *,
        activation: Optional[str] = None,
        init: str = "uniform",
        rng: RngLike = None,
        fused: bool = False,
        slope: float = 0.01,
        fan_out: int = 1,
    ) -> None:
        if isinstance(nin, bool) or not isinstance(nin, int) or nin < 1:
            raise ValueError(f"Neuron: nin must be a positive int, got {nin!r}")
        if isinstance(nonlin, str):
            activation = nonlin if activation is None else activation
        if activation is None:
            activation = "relu" if nonlin else "linear"
        if activation not in ACTIVATIONS:
            raise ValueError(f"Neuron: unknown activation {activation!r}; choose from {sorted(ACTIVATIONS)}")
        if init not in INITS:
            raise ValueError(f"Neuron: unknown init {init!r}; choose from {list(INITS)}")
        source = resolve_rng(rng)
        self.w = [Value(_draw_weight(init, source, nin, fan_out)) for _ in range(nin)]
        self.b = Value(0.0)
        self.activation = activation
        self.nonlin = activation != "linear"
        self.fused = bool(fused)
        self.slope = float(slope)
        self._apply = ACTIVATIONS[activation]
        self._label_parameters()

    def __call__(self, x: Union[Sequence[ValueLike], ValueLike]) -> Value:
        if isinstance(x, (Value, int, float)):  # one input: what a layer of one neuron returns
            x = [x]
        if len(x) != len(self.w):
            raise ValueError(f"{self!r}: expected {len(self.w)} inputs, got {len(x)}")
        # micrograd's order, b + w0*x0 + w1*x1 + ...; the fused node adds in the same order
        act = linear(self.w, x, self.b) if self.fused else sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return self._apply(act, self.slope)

    def named_parameters(self) -> List[Tuple[str, Value]]:
        return [(f"w.{i}", w) for i, w in enumerate(self.w)] + [("b", self.b)]

    def __repr__(self) -> str:
        return f"{_REPR_NAMES[self.activation]}Neuron({len(self.w)})"


class Layer(Module):
    """``nout`` neurons reading the same inputs; one neuron's layer returns a single Value.

    Keyword arguments go to each :class:`Neuron` (``nonlin``, ``activation``, ``init``, ``rng``,
    ``fused``, ``slope``).
    """

    def __init__(self, nin: int, nout: int, **kwargs: Any) -> None:
        if isinstance(nout, bool) or not isinstance(nout, int) or nout < 1:
            raise ValueError(f"Layer: nout must be a positive int, got {nout!r}")
        kwargs["rng"] = resolve_rng(kwargs.get("rng"))
        kwargs.setdefault("fan_out", nout)
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]
        self._label_parameters()

    def __call__(self, x: Sequence[ValueLike]) -> Any:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def named_parameters(self) -> List[Tuple[str, Value]]:
        return [(f"neurons.{i}.{name}", p) for i, n in enumerate(self.neurons) for name, p in n.named_parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """A multi-layer perceptron: micrograd's ``MLP(nin, nouts)``, ReLU hidden layers, linear output.

    Args:
        nin: number of inputs.
        nouts: the width of each layer; the last is the number of outputs.
        activation: the hidden layers' activation (default ``"relu"``).
        output_activation: the last layer's activation (default ``"linear"``).
        init, rng, fused, slope: as for :class:`Neuron`.

    >>> model = MLP(3, [4, 4, 1], activation="tanh", rng=42)
    >>> out = model([2.0, 3.0, -1.0])      # a Value; a list of Values if the last width > 1
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        *,
        activation: str = "relu",
        output_activation: str = "linear",
        init: str = "uniform",
        rng: RngLike = None,
        fused: bool = False,
        slope: float = 0.01,
    ) -> None:
        if not nouts:
            raise ValueError("MLP: nouts must list at least one layer width")
        sizes = [nin, *nouts]
        source = resolve_rng(rng)
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activation=activation if i != len(nouts) - 1 else output_activation,
                  init=init, rng=source, fused=fused, slope=slope)
            for i in range(len(nouts))
        ]
        self._label_parameters()

    def __call__(self, x: Sequence[ValueLike]) -> Any:
        out: Any = x
        for layer in self.layers:
            out = layer(out)
        return out

    def named_parameters(self) -> List[Tuple[str, Value]]:
        return [
            (f"layers.{i}.{name}", p) for i, layer in enumerate(self.layers) for name, p in layer.named_parameters()
        ]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"

    def _short_name(self) -> str:
        sizes = [len(self.layers[0].neurons[0].w)] + [len(layer.neurons) for layer in self.layers]
        return f"MLP{sizes}"

    def to_torch(self) -> Any:
        """An equivalent ``torch.nn.Module`` (float64) holding copies of these weights.

        Imports PyTorch only here. The module maps a ``(batch, nin)`` tensor to ``(batch, nout)``.

        Raises:
            ImportError: PyTorch is not installed.
            ValueError: a layer mixes activations (PyTorch layers apply one to all outputs).
        """
        import torch

        steps: List[Any] = []
        for i, layer in enumerate(self.layers):
            kinds = {(n.activation, n.slope if n.activation == "leaky_relu" else 0.0) for n in layer.neurons}
            if len(kinds) != 1:
                raise ValueError(f"to_torch: layer {i} mixes activations {sorted(kinds)}")
            nin, nout = len(layer.neurons[0].w), len(layer.neurons)
            lin = torch.nn.Linear(nin, nout, dtype=torch.float64)
            with torch.no_grad():
                lin.weight.copy_(torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64))
                lin.bias.copy_(torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64))
            steps.append(lin)
            ((kind, slope),) = kinds
            steps.append(_torch_activation(torch, kind, slope))
        return torch.nn.Sequential(*steps)


def _torch_activation(torch: Any, kind: str, slope: float) -> Any:
    """The PyTorch module for one of :data:`ACTIVATIONS` (with the same derivative at kinks)."""
    if kind == "step":

        class Step(torch.nn.Module):  # type: ignore[misc]
            """Heaviside step with derivative 0, as tracegrad's ``step``."""

            def forward(self, x: Any) -> Any:
                return (x > 0).to(x.dtype) + 0.0 * x

        return Step()
    table = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid, "linear": torch.nn.Identity}
    if kind == "leaky_relu":
        return torch.nn.LeakyReLU(slope)
    return table[kind]()
