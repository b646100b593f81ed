"""Recording training so it can be replayed: snapshots of the parameters, their gradients, the
loss and the accuracy every few steps, kept with the data and the model's shape.

Pass ``record=True`` (or a :class:`Recorder` with your own settings) to
:func:`~tracegrad.nn.train.fit`; the returned History then holds a :class:`Recording`, which
``history.save_html(path)`` turns into a page that replays the learning. Recording reads the
parameters, gradients and loss that training computes anyway (and measures each batch's accuracy
once more, with the same function): it changes no number of the training.

>>> from tracegrad.nn import MLP, SGD, fit
>>> from tracegrad.nn.data import moons
>>> from tracegrad.nn.losses import hinge
>>> model = MLP(2, [4, 1], rng=0, fused=True)
>>> history = fit(model, moons(20, seed=0, signed=True), hinge, SGD(model.parameters(), lr=0.1),
...               epochs=30, progress=False, record=Recorder(every=10))
>>> [s.step for s in history.recording.snapshots]     # every 10th step, and the last
[0, 10, 20, 29]
>>> history.recording.snapshots[-1].loss == history.loss[-1]
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from ..engine import Value
from . import losses
from .replay import LOSSES, describe

DEFAULT_MAX_SNAPSHOTS = 200
"""How many snapshots a default recording keeps at most (a page of them stays a few MB)."""

Number = Union[int, float]


@dataclass
class Snapshot:
    """The state of training at one step, before the optimizer moved the parameters.

    Attributes:
        step: the optimizer step (0 for the first).
        epoch: the epoch it belongs to (0 for the first).
        loss: the loss of the step's batch, computed with these parameters.
        accuracy: the accuracy on that batch, or None (regression).
        parameters: every parameter's value, in the model's order.
        gradients: every parameter's gradient of that loss.
    """

    step: int
    epoch: int
    loss: float
    accuracy: Optional[float]
    parameters: List[float]
    gradients: List[float]


@dataclass
class Recording:
    """Snapshots of one training run, with what a page needs to replay it.

    Attributes:
        snapshots: in step order; the last is the last step taken.
        parameter_names: the parameters' names (``layers.0.neurons.3.w.1``), in snapshot order.
        inputs, targets: the training data (None if it was not a list of numbers per point).
        model: the model's shape (see :func:`tracegrad.nn.replay.describe`), or None for a model
            that cannot be rebuilt from data (it is replayed only while it is alive).
        task: ``"classification"`` (fit measured accuracy) or ``"regression"``.
        input_names, output_name, class_names: names for the page (its axes, legend, labels).
        loss_name: the loss function's name when it is one of :mod:`tracegrad.nn.losses`.
        epochs, steps_per_epoch, batch_size, every: how training ran and how often it was recorded.
        stopped: why training stopped before its last step (the error), or None.
    """

    snapshots: List[Snapshot]
    parameter_names: List[str]
    inputs: Optional[List[List[float]]]
    targets: Optional[List[Number]]
    model: Optional[Dict[str, Any]]
    task: str
    input_names: List[str]
    output_name: str
    class_names: Dict[Number, str]
    loss_name: Optional[str]
    epochs: int
    steps_per_epoch: int
    batch_size: Optional[int]
    every: int
    stopped: Optional[str] = None
    live: Optional[Live] = field(default=None, repr=False, compare=False)
    """The model, loss and parameters of the run while they are alive (never saved)."""

    def __repr__(self) -> str:
        shape = f", model {self.model['kind']}" if self.model else ""
        return f"<Recording: {len(self.snapshots)} snapshots of {len(self.parameter_names)} parameters{shape}>"

    def class_name(self, target: Number) -> str:
        """How the page calls a class: the name given, else the target itself (``+1``, ``2``)."""
        if target in self.class_names:
            return self.class_names[target]
        signed = -1 in set(self.targets or [])
        return f"{target:+g}" if signed else f"{target:g}"


@dataclass
class Live:
    """The objects of a run that a saved file cannot hold: replaying reads them while they live."""

    model: Any
    loss: Callable[..., Value]
    parameters: List[Value]


class Recorder:
    """What to record during :func:`~tracegrad.nn.train.fit`, passed as ``fit(..., record=Recorder(...))``.

    Args:
        every: keep a snapshot every this many optimizer steps (and always the last step). By
            default, the smallest step that keeps at most ``max_snapshots``.
        max_snapshots: the most snapshots a default ``every`` keeps (200).
        inputs: names of the input features, for the page's axes (``["°C"]``, ``["age", "sex"]``).
        output: the name of the model's output (``"°F"``, ``"score"``).
        classes: names of the classes, as ``{target: name}`` or a list in the order of the sorted
            targets (``["fails", "passes"]`` for targets 0 and 1).

    After training, or when training stopped with an error, :attr:`history` is the History
    (holding the :class:`Recording` up to the last step taken):

    >>> recorder = Recorder()
    >>> try:
    ...     history = fit(model, data, loss, optimizer, epochs=100, record=recorder)  # doctest: +SKIP
    ... except FloatingPointError:                       # the learning rate was too large
    ...     history = recorder.history                   # doctest: +SKIP
    """

    def __init__(self, every: Optional[int] = None, *, max_snapshots: int = DEFAULT_MAX_SNAPSHOTS,
                 inputs: Optional[Sequence[str]] = None, output: Optional[str] = None,
                 classes: Union[Dict[Number, str], Sequence[str], None] = None) -> None:
        for name, n in (("every", every), ("max_snapshots", max_snapshots)):
            if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
                raise ValueError(f"Recorder: {name} must be a whole number >= 1, got {n!r}")
        self.every = every
        self.max_snapshots = max_snapshots
        self.input_names = None if inputs is None else [str(s) for s in inputs]
        self.output_name = output
        self.classes = classes
        self._history: Any = None
        self.recording: Optional[Recording] = None
        self._step = 0
        self._total = 0
        self._last: Optional[Snapshot] = None  # the latest step, kept or not
        self._accuracy: Optional[Callable[[List[Any], List[Any]], float]] = None

    # --- called by fit

    def start(self, history: Any, model: Any, data: Tuple[Sequence[Any], Sequence[Any]], loss: Callable[..., Value],
              parameters: Sequence[Value], accuracy: Optional[Callable[[List[Any], List[Any]], float]], epochs: int,
              batch_size: Optional[int]) -> None:
        """Begin a run: note the data, the model's shape and how often to record."""
        if self.recording is not None:
            raise ValueError("Recorder: a recorder records one training run; make a new one for the next")
        X, y = data
        size = len(X) if batch_size is None else batch_size
        steps_per_epoch = -(-len(X) // size)
        self._total = epochs * steps_per_epoch
        every = self.every or _every(self._total, self.max_snapshots)
        inputs, targets = _data(X, y)
        params = list(parameters)
        names = _parameter_names(model, params)
        width = len(inputs[0]) if inputs else 0
        input_names = self.input_names or ([f"x{i}" for i in range(width)] if width != 1 else ["x"])
        if inputs is not None and len(input_names) != width:
            raise ValueError(f"Recorder: {len(input_names)} input names for inputs of {width} numbers")
        self.recording = Recording(
            snapshots=[], parameter_names=names, inputs=inputs, targets=targets,
            model=describe(model) if _same_parameters(model, params) else None,
            task="classification" if accuracy is not None else "regression",
            input_names=input_names, output_name=self.output_name or "output",
            class_names=_class_names(self.classes, targets), loss_name=_loss_name(loss),
            epochs=epochs, steps_per_epoch=steps_per_epoch, batch_size=batch_size, every=every,
            live=Live(model, loss, params),
        )
        self._accuracy = accuracy
        self._history = history
        history.recording = self.recording

    @property
    def history(self) -> Any:
        """The History of the run (None before it starts), its recording up to the last step taken."""
        self._keep()
        return self._history

    def step(self, epoch: int, outputs: List[Any], targets: List[Any], loss: Value) -> None:
        """After backward, before the optimizer's step: keep this step if it is one to keep."""
        recording = self.recording
        if recording is None or recording.live is None:
            raise ValueError("Recorder: step() before start()")
        params = recording.live.parameters
        # measured now, so that the batch's graph is not held while the next one is built
        accuracy = self._accuracy(outputs, targets) if self._accuracy is not None else None
        self._last = Snapshot(self._step, epoch, loss.data, accuracy, [p.data for p in params],
                              [p.grad for p in params])
        if self._step % recording.every == 0 or self._step == self._total - 1:
            self._keep()
        self._step += 1

    def stop(self, error: BaseException) -> BaseException:
        """Training stops with ``error``: keep the last step taken, and say why it stopped."""
        if self.recording is not None:
            self._keep()
            if self.recording.stopped is None:
                self.recording.stopped = str(error)
        return error

    def finish(self) -> None:
        """Training ended normally."""
        if self.recording is not None:
            self._keep()

    def _keep(self) -> None:
        last, recording = self._last, self.recording
        if last is None or recording is None:
            return
        if not recording.snapshots or recording.snapshots[-1].step != last.step:
            recording.snapshots.append(last)


def _every(steps: int, most: int) -> int:
    """The smallest k for which every k-th of ``steps`` steps, and the last, make at most ``most`` snapshots."""
    every = max(1, -(-steps // most))
    while len(range(0, steps, every)) + (1 if (steps - 1) % every else 0) > most:
        every += 1
    return every


def _data(X: Sequence[Any], y: Sequence[Any]) -> Tuple[Optional[List[List[float]]], Optional[List[Number]]]:
    """The data as lists of floats and numbers, or (None, None) if it is not numbers per point."""
    try:
        inputs = [[_number(v) for v in (x if isinstance(x, (list, tuple)) else [x])] for x in X]
        targets = [t.data if isinstance(t, Value) else t for t in y]
    except TypeError:
        return None, None
    if len({len(x) for x in inputs}) != 1:
        return None, None
    if not all(isinstance(t, (int, float)) and not isinstance(t, bool) for t in targets):
        return None, None
    return inputs, targets


def _number(v: Any) -> float:
    if isinstance(v, Value):
        return v.data
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"not a number: {v!r}")
    return float(v)


def _parameter_names(model: Any, params: List[Value]) -> List[str]:
    named = {}
    if hasattr(model, "named_parameters"):
        named = {id(p): name for name, p in model.named_parameters()}
    return [named.get(id(p)) or p.label or f"p{i}" for i, p in enumerate(params)]


def _same_parameters(model: Any, params: List[Value]) -> bool:
    """Whether the optimizer moves exactly the model's parameters, in the model's order."""
    if not hasattr(model, "parameters"):
        return False
    own = model.parameters()
    return len(own) == len(params) and all(a is b for a, b in zip(own, params))


def _class_names(classes: Union[Dict[Number, str], Sequence[str], None],
                 targets: Optional[List[Number]]) -> Dict[Number, str]:
    if classes is None:
        return {}
    if isinstance(classes, dict):
        return {k: str(v) for k, v in classes.items()}
    values = sorted(set(targets or []))
    if len(classes) != len(values):
        raise ValueError(f"Recorder: {len(classes)} class names for {len(values)} classes {values[:10]}")
    return {v: str(name) for v, name in zip(values, classes)}


def _loss_name(loss: Any) -> Optional[str]:
    name = getattr(loss, "__name__", None)
    return name if name in LOSSES and getattr(losses, name) is loss else None


def finite_or_text(x: float) -> Union[float, str]:
    """A float as JSON can hold it: itself if finite, else ``"inf"``, ``"-inf"`` or ``"nan"``."""
    return x if math.isfinite(x) else str(x)
