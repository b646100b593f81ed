"""``fit``: the training loop (forward, loss, zero_grad, backward, step) over minibatches.

>>> from tracegrad.nn import MLP
>>> from tracegrad.losses import hinge
>>> from tracegrad.optim import SGD
>>> from tracegrad.data import moons
>>> data = moons(40, seed=1, signed=True)
>>> model = MLP(2, [8, 1], rng=1, fused=True)
>>> history = fit(model, data, hinge, SGD(model.parameters(), lr=0.1), epochs=3, batch_size=10,
...               progress=False)
>>> len(history.loss), len(history.accuracy)
(3, 3)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

from ..engine import Value
from ..engine.errors import DomainError
from .data import Seed, batches, resolve_seed
from .history import HistoryMethods
from .optim import Optimizer
from .progress import progress_bar
from .record import Recorder, Recording

LossFn = Callable[[List[Any], List[Any]], Value]
AccuracyFn = Callable[[List[Any], List[Any]], float]


@dataclass
class History(HistoryMethods):
    """What training did, epoch by epoch (means over the epoch's batches), and batch by batch.

    With ``fit(..., record=True)`` it also holds a :class:`~tracegrad.nn.record.Recording`, which
    ``save_html`` replays as a page; ``save``/``load`` keep it all as JSON.
    """

    loss: List[float] = field(default_factory=list)
    accuracy: List[Optional[float]] = field(default_factory=list)
    batch_loss: List[float] = field(default_factory=list)
    recording: Optional[Recording] = field(default=None, repr=False)


def classification_accuracy(outputs: List[Any], targets: List[Any]) -> float:
    """The fraction of outputs that pick the target class.

    A single-Value output is a score: positive means class 1 (targets 0/1) or +1 (targets -1/+1).
    A list of Values is one logit per class: the largest one wins.
    """
    if not outputs:
        raise ValueError("accuracy: no outputs")
    signed = any(t == -1 for t in targets)
    right = sum(1 for out, t in zip(outputs, targets) if predicted_class(out, signed) == t)
    return right / len(outputs)


def predicted_class(output: Any, signed: bool = False) -> int:
    """The class an output picks: of several logits the largest (its index); a single score
    picks 1 when it is > 0, else 0 (or -1, for targets -1 / +1 when ``signed``)."""
    if isinstance(output, (list, tuple)):
        scores = [o.data if isinstance(o, Value) else float(o) for o in output]
        return max(range(len(scores)), key=scores.__getitem__)  # type: ignore[no-any-return]
    score = output.data if isinstance(output, Value) else float(output)
    return 1 if score > 0 else (-1 if signed else 0)


def fit(
    model: Callable[[Any], Any],
    data: Tuple[Sequence[Any], Sequence[Any]],
    loss: LossFn,
    optimizer: Optimizer,
    epochs: int = 1,
    batch_size: Optional[int] = None,
    progress: bool = True,
    *,
    accuracy: Optional[AccuracyFn] = classification_accuracy,
    shuffle: bool = True,
    seed: Seed = None,
    callback: Optional[Callable[[int, History], None]] = None,
    record: Union[bool, Recorder, None] = None,
) -> History:
    """Train ``model`` on ``data`` and return the loss and accuracy history.

    Each batch: outputs ``model(x)`` for every point, ``loss(outputs, targets)``, zero the
    gradients, ``backward()``, ``optimizer.step()``.

    Args:
        model: maps one input (a list of numbers) to an output (a Value or a list of them).
        data: ``(X, y)``, e.g. a :class:`~tracegrad.data.Dataset`.
        loss: ``loss(outputs, targets) -> Value`` for a batch, e.g. ``tracegrad.losses.hinge``;
            add a penalty with ``lambda out, y: hinge(out, y) + l2_penalty(model.parameters())``.
        optimizer: e.g. ``SGD(model.parameters(), lr=0.1)``.
        epochs: passes over the data.
        batch_size: points per step; None for the whole data set in each step.
        progress: show a tqdm progress bar with the loss (tqdm is imported only then): a widget
            in a notebook with ipywidgets, else one text line that updates in place.
        accuracy: ``accuracy(outputs, targets) -> float`` measured on the training batches, or
            None for regression.
        shuffle, seed: shuffle the points each epoch, from this seed (None: the global
            ``random`` module). One batch of all the data (``batch_size=None``) is never
            shuffled: its gradient is the same, and the run does not depend on a seed.
        callback: called with ``(epoch, history)`` after each epoch (for plots, early stops).
        record: True (or a :class:`~tracegrad.nn.record.Recorder`) to keep snapshots of the
            parameters, gradients, loss and accuracy in ``history.recording``, for
            ``history.save_html(path)``; it changes no number of the training.

    Raises:
        FloatingPointError: the loss became NaN or infinite, or an op overflowed (the learning
            rate is too large, most often).
    """
    X, y = data
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"fit: epochs must be an int >= 0, got {epochs!r}")
    if len(X) != len(y):
        raise ValueError(f"fit: {len(X)} inputs but {len(y)} targets")
    if not X:
        raise ValueError("fit: no data")
    order_rng = resolve_seed(seed)
    full_batch = batch_size is None or batch_size >= len(X)
    history = History()
    recorder = (Recorder() if record is True else record) or None
    if recorder is not None:
        recorder.start(history, model, data, loss, optimizer.parameters, accuracy, epochs, batch_size)
    bar: Any = None
    epoch_range: Any = range(epochs)
    if progress:
        bar = epoch_range = progress_bar(epoch_range, desc="fit", unit="epoch")
    for epoch in epoch_range:
        losses: List[float] = []
        weights: List[int] = []
        right = 0.0
        for Xb, yb in batches(X, y, batch_size, shuffle=shuffle and not full_batch, seed=order_rng):
            try:
                outputs = [model(x) for x in Xb]
                total = loss(outputs, yb)
            except DomainError as exc:
                error = FloatingPointError(
                    f"fit: at epoch {epoch}, {exc}; if the parameters diverged, try a smaller learning rate"
                )
                raise (recorder.stop(error) if recorder else error) from exc
            if not math.isfinite(total.data):
                error = FloatingPointError(
                    f"fit: the loss is {total.data} at epoch {epoch}; try a smaller learning rate"
                )
                raise recorder.stop(error) if recorder else error
            optimizer.zero_grad()
            total.backward()
            if recorder is not None:
                recorder.step(epoch, outputs, yb, total)
            optimizer.step()
            losses.append(total.data)
            weights.append(len(Xb))
            history.batch_loss.append(total.data)
            if accuracy is not None:
                right += accuracy(outputs, yb) * len(Xb)
        # one batch: its loss as it is (a weighted mean would round it in the last digit)
        mean = losses[0] if len(losses) == 1 else sum(lo * w for lo, w in zip(losses, weights)) / sum(weights)
        history.loss.append(mean)
        history.accuracy.append(right / sum(weights) if accuracy is not None else None)
        if bar is not None:
            shown = {"loss": f"{history.loss[-1]:.4f}"}
            if accuracy is not None:
                shown["acc"] = f"{history.accuracy[-1]:.1%}"
            bar.set_postfix(shown, refresh=False)  # drawn at the next update: a few lines, not one per epoch
        if callback is not None:
            callback(epoch, history)
    if bar is not None:
        bar.close()
    if recorder is not None:
        recorder.finish()
    return history
