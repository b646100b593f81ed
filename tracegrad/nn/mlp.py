"""Neurons, layers and the multi-layer perceptron, made of Values.

Drop-in compatible with micrograd's ``nn`` (same signatures, parameter order, repr, and the same
draws from the global ``random`` module), and more: activations, initialisations, named
parameters (with saving and loading from :class:`~tracegrad.nn.module.Module`), a fused fast
path, and conversion to PyTorch.

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

import math
import random
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from ..engine import Value, ValueLike, neuron
from .data import resolve_seed
from .module import Module

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
        self._weights, self._params = list(self.w), (*self.w, self.b)  # what fused nodes share
        self.activation = activation
        self.nonlin = activation != "linear"
        self.fused = bool(fused)
        self.slope = float(slope)
        self._apply = ACTIVATIONS[activation]
        self._relu = activation == "relu"
        self._label_parameters()

    def __call__(self, x: Union[Sequence[ValueLike], ValueLike]) -> Value:
        if x.__class__ is not tuple and x.__class__ is not list and isinstance(x, (Value, int, float)):
            x = [x]  # one input: what a layer of one neuron returns
        w = self.w
        if len(x) != len(w):
            raise ValueError(f"{self!r}: expected {len(w)} inputs, got {len(x)}")
        if self.fused:  # one node, b + w0*x0 + w1*x1 + ... added in micrograd's order (with its ReLU)
            params = self._params  # the same tuple at every call: the nodes share it
            if w != self._weights or params[-1] is not self.b:  # unless a parameter was replaced
                self._weights, params = list(w), (*w, self.b)
                self._params = params
            act = neuron(params, x, self._relu)
            return act if self._relu else self._apply(act, self.slope)
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)  # micrograd's neuron
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
        if x.__class__ is not tuple and isinstance(x, list):
            x = tuple(x)  # one tuple of inputs, which all the neurons' fused nodes share
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
