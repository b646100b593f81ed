"""``Module``: the base of every model — parameters by name, gradients, saving and loading.

A subclass lists its parameters in :meth:`Module.named_parameters`; everything else (their
gradients, a state dict by dotted name, an atomic JSON file that is validated before anything is
loaded) follows from that one method.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Dict, List, Sequence, Tuple, Union

from ..engine import TracegradError, Value
from ..files import read_regular, write_atomic

FORMAT = "tracegrad.module"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 64 * 1024 * 1024


class LoadError(TracegradError, ValueError):
    """A state dict or model file does not fit the model; the model was left untouched."""


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
                raise LoadError(f"load_state_dict: parameter {name!r} must be a finite number, got {clip_repr(x)}")
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
            NotARegularFileError: the path is a FIFO, a device or a folder (it is not opened for
                reading at all, so a FIFO cannot block).
        """
        target = os.fspath(path)
        doc = read_json(target, "load", "model file")
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


def read_json(path: Union[str, os.PathLike[str]], caller: str, kind: str) -> Any:
    """The JSON document in the regular file at ``path``, for the loaders of tracegrad's files:
    at most :data:`MAX_FILE_BYTES`, no NaN or Infinity; errors say ``caller`` and ``kind``.

    Raises:
        LoadError: the file is too large or is not JSON.
        NotARegularFileError: the path is a FIFO, a device or a folder (refused without waiting).
    """
    target = os.fspath(path)
    raw = read_regular(target, MAX_FILE_BYTES)
    if len(raw) > MAX_FILE_BYTES:
        raise LoadError(f"{caller}: {target!r} is larger than {MAX_FILE_BYTES} bytes; not a {kind}")
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError) as exc:
        raise LoadError(f"{caller}: {target!r} is not a valid {kind} ({exc})") from None


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a finite number")


def clip_repr(x: Any, limit: int = 60) -> str:
    """``repr(x)``, cut to ``limit`` characters, for error messages about a file's contents."""
    text = repr(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _few(names: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")
