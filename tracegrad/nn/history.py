"""What a training History can do besides hold numbers: save and load itself as JSON (atomically,
checked like model files), and replay its recording as a page, a figure or an animation.

The pictures are drawn by :mod:`tracegrad.viz` (imported inside the methods that need it: ``nn``
stands below ``viz``). A file that is truncated, corrupt, hostile or too large raises
:class:`~tracegrad.nn.module.LoadError` and creates nothing.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Dict, List, Optional, Tuple, Type, TypeVar, Union

from ..files import write_atomic
from .module import LoadError, clip_repr, read_json
from .record import Recording, Snapshot, finite_or_text
from .replay import LOSSES, FloatForward, check_description

FORMAT = "tracegrad.history"
FORMAT_VERSION = 1
MAX_NAME = 200
"""Longest name (of a parameter, class, input or output) a file may hold."""

H = TypeVar("H", bound="HistoryMethods")
PathLike = Union[str, "os.PathLike[str]"]


class HistoryMethods:
    """Saving, loading and replaying, for :class:`~tracegrad.nn.train.History`."""

    loss: List[float]
    accuracy: List[Optional[float]]
    batch_loss: List[float]
    recording: Optional[Recording]

    def save(self, path: PathLike) -> str:
        """Write the history (and its recording) as JSON, atomically; returns the path."""
        return write_atomic(path, json.dumps(to_document(self), allow_nan=False, separators=(",", ":")))

    @classmethod
    def load(cls: Type[H], path: PathLike) -> H:
        """Read a history written by :meth:`save`. A loaded recording can be replayed as a page
        when its model is an MLP, Layer or Neuron (other models are replayed only while alive).

        Raises:
            LoadError: the file is not a tracegrad history (truncated, corrupt, hostile, too large).
        """
        target = os.fspath(path)
        doc = read_json(target, "History.load", "history file")
        try:
            return from_document(doc, cls)
        except _Invalid as exc:
            raise LoadError(f"History.load: {target!r}: {exc}") from None

    # --- pictures: tracegrad.viz draws them

    def page(self, **options: Any) -> Any:
        """The page that replays the recording (a notebook shows it inline); see
        :func:`tracegrad.viz.learning.replay` for the options."""
        from ..viz.learning import replay

        return replay(self, **options)

    def save_html(self, path: PathLike, **options: Any) -> str:
        """Write the page that replays the recording: one offline file; returns the path."""
        return str(self.page(**options).save_html(path))

    def save_gif(self, path: PathLike, **options: Any) -> str:
        """Write an animation of the recording (the model's view and the loss) as a GIF; needs matplotlib."""
        from ..viz.learning_plots import save_gif

        return save_gif(self, path, **options)

    def plot(self, **options: Any) -> Any:
        """A matplotlib figure: the loss and accuracy curves, and the model's view at the end."""
        from ..viz.learning_plots import plot

        return plot(self, **options)

    def _repr_mimebundle_(self, include: Optional[Any] = None, exclude: Optional[Any] = None) -> Dict[str, str]:
        if self.recording is None:
            return {"text/plain": repr(self)}
        return dict(self.page()._repr_mimebundle_(include, exclude))

    def _mime_(self) -> Tuple[str, str]:
        if self.recording is None:
            return "text/plain", repr(self)
        return tuple(self.page()._mime_())  # type: ignore[return-value]


# --- the file format


def to_document(history: HistoryMethods) -> Dict[str, Any]:
    """The JSON document of a history (numbers that are not finite as ``"inf"``, ``"nan"``)."""
    r = history.recording
    doc: Dict[str, Any] = {
        "format": FORMAT, "version": FORMAT_VERSION,
        "loss": [finite_or_text(x) for x in history.loss],
        "accuracy": list(history.accuracy),
        "batch_loss": [finite_or_text(x) for x in history.batch_loss],
        "recording": None,
    }
    if r is not None:
        doc["recording"] = {
            "parameters": r.parameter_names, "model": r.model, "task": r.task,
            "inputs": r.inputs, "targets": r.targets,
            "names": {"inputs": r.input_names, "output": r.output_name,
                      "classes": [[k, v] for k, v in r.class_names.items()]},
            "loss": r.loss_name, "epochs": r.epochs, "steps_per_epoch": r.steps_per_epoch,
            "batch_size": r.batch_size, "every": r.every, "stopped": r.stopped,
            "snapshots": [{"step": s.step, "epoch": s.epoch, "loss": finite_or_text(s.loss), "accuracy": s.accuracy,
                           "parameters": [finite_or_text(x) for x in s.parameters],
                           "gradients": [finite_or_text(x) for x in s.gradients]} for s in r.snapshots],
        }
    return doc


class _Invalid(ValueError):
    """A field of the document is not what a history file holds."""


def from_document(doc: Any, cls: Type[H]) -> H:
    """A History from a document written by :func:`to_document`; checks everything first.

    Raises:
        _Invalid: naming the first field that is wrong.
    """
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _Invalid(f"not a tracegrad history file (no \"format\": {FORMAT!r})")
    if doc.get("version") != FORMAT_VERSION:
        raise _Invalid(f"format version {clip_repr(doc.get('version'))}; this tracegrad reads version {FORMAT_VERSION}")
    loss = [_number(x, "loss") for x in _list(doc.get("loss"), "loss")]
    accuracy = [None if a is None else _number(a, "accuracy") for a in _list(doc.get("accuracy"), "accuracy")]
    batch_loss = [_number(x, "batch_loss") for x in _list(doc.get("batch_loss"), "batch_loss")]
    if len(accuracy) != len(loss):
        raise _Invalid(f"{len(loss)} losses but {len(accuracy)} accuracies")
    recording = None if doc.get("recording") is None else _recording(doc["recording"])
    history = cls()
    history.loss, history.accuracy, history.batch_loss, history.recording = loss, accuracy, batch_loss, recording
    return history


def _recording(r: Any) -> Recording:
    if not isinstance(r, dict):
        raise _Invalid("recording must be an object")
    names = [_name(n, "recording.parameters") for n in _list(r.get("parameters"), "recording.parameters")]
    model = r.get("model")
    if model is not None:
        problem = check_description(model)
        if problem is None and FloatForward(model).parameter_count != len(names):
            problem = f"the model has {FloatForward(model).parameter_count} parameters, the file names {len(names)}"
        if problem:
            raise _Invalid(f"recording.model: {problem}")
    task = r.get("task")
    if task not in ("classification", "regression"):
        raise _Invalid(f"recording.task must be 'classification' or 'regression', got {clip_repr(task)}")
    inputs, targets = r.get("inputs"), r.get("targets")
    if (inputs is None) != (targets is None):
        raise _Invalid("recording.inputs and recording.targets come together")
    width = 0
    if inputs is not None:
        inputs = [[_number(v, "recording.inputs", finite=True) for v in _list(x, "recording.inputs")]
                  for x in _list(inputs, "recording.inputs")]
        targets = [_number(t, "recording.targets", finite=True, keep_int=True)
                   for t in _list(targets, "recording.targets")]
        widths = {len(x) for x in inputs}
        if len(inputs) != len(targets) or not inputs or len(widths) != 1 or 0 in widths:
            raise _Invalid("recording.inputs must be one or more points of the same width, one target each")
        (width,) = widths
        if model is not None and model["inputs"] != width:
            raise _Invalid(f"recording.inputs have {width} numbers, the model takes {model['inputs']}")
    spelled = r.get("names")
    if not isinstance(spelled, dict):
        raise _Invalid("recording.names must be an object")
    input_names = [_name(n, "recording.names.inputs") for n in _list(spelled.get("inputs"), "recording.names.inputs")]
    if inputs is not None and len(input_names) != width:
        raise _Invalid(f"recording.names.inputs: {len(input_names)} names for inputs of {width} numbers")
    classes: Dict[Union[int, float], str] = {}
    for pair in _list(spelled.get("classes"), "recording.names.classes"):
        if not isinstance(pair, list) or len(pair) != 2:
            raise _Invalid("recording.names.classes must hold [target, name] pairs")
        classes[_number(pair[0], "recording.names.classes", finite=True, keep_int=True)] = _name(
            pair[1], "recording.names.classes")
    loss_name = r.get("loss")
    if loss_name is not None and loss_name not in LOSSES:
        raise _Invalid(f"recording.loss names no loss of tracegrad.nn.losses: {clip_repr(loss_name)}")
    stopped = r.get("stopped")
    if stopped is not None and (not isinstance(stopped, str) or len(stopped) > 2000):
        raise _Invalid("recording.stopped must be a text of at most 2000 characters")
    batch_size = r.get("batch_size")
    recording = Recording(
        snapshots=[], parameter_names=names, inputs=inputs, targets=targets, model=model, task=task,
        input_names=input_names, output_name=_name(spelled.get("output"), "recording.names.output"),
        class_names=classes, loss_name=loss_name, epochs=_count(r.get("epochs"), "recording.epochs"),
        steps_per_epoch=_count(r.get("steps_per_epoch"), "recording.steps_per_epoch", 1),
        batch_size=None if batch_size is None else _count(batch_size, "recording.batch_size", 1),
        every=_count(r.get("every"), "recording.every", 1), stopped=stopped,
    )
    last = -1
    for i, s in enumerate(_list(r.get("snapshots"), "recording.snapshots")):
        where = f"recording.snapshots[{i}]"
        if not isinstance(s, dict):
            raise _Invalid(f"{where} must be an object")
        step = _count(s.get("step"), f"{where}.step")
        if step <= last:
            raise _Invalid(f"{where}.step must come after the step before it")
        last = step
        params = [_number(x, f"{where}.parameters") for x in _list(s.get("parameters"), f"{where}.parameters")]
        grads = [_number(x, f"{where}.gradients") for x in _list(s.get("gradients"), f"{where}.gradients")]
        if len(params) != len(names) or len(grads) != len(names):
            raise _Invalid(f"{where} must hold {len(names)} parameters and {len(names)} gradients")
        acc = s.get("accuracy")
        recording.snapshots.append(Snapshot(
            step, _count(s.get("epoch"), f"{where}.epoch"), _number(s.get("loss"), f"{where}.loss"),
            None if acc is None else _number(acc, f"{where}.accuracy"), params, grads))
    return recording


def _list(x: Any, where: str) -> List[Any]:
    if not isinstance(x, list):
        raise _Invalid(f"{where} must be a list, got {type(x).__name__}")
    return x


def _number(x: Any, where: str, *, finite: bool = False, keep_int: bool = False) -> Any:
    if isinstance(x, str) and not finite and x in ("inf", "-inf", "nan"):
        return float(x)
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise _Invalid(f"{where} must hold numbers, got {clip_repr(x)}")
    if isinstance(x, int) and keep_int:
        if abs(x) > 2**53:
            raise _Invalid(f"{where}: {clip_repr(x)} is too large")
        return x
    try:
        number = float(x)
    except OverflowError:
        raise _Invalid(f"{where}: {clip_repr(x)} is too large") from None
    if finite and not math.isfinite(number):
        raise _Invalid(f"{where} must hold finite numbers")
    return number


def _count(x: Any, where: str, lowest: int = 0) -> int:
    if isinstance(x, bool) or not isinstance(x, int) or not lowest <= x <= 10**12:
        raise _Invalid(f"{where} must be a whole number >= {lowest}, got {clip_repr(x)}")
    return x


def _name(x: Any, where: str) -> str:
    if not isinstance(x, str) or len(x) > MAX_NAME:
        raise _Invalid(f"{where} must hold texts of at most {MAX_NAME} characters, got {clip_repr(x)}")
    return x
