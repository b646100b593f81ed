"""Neural nets on Values: modules (Neuron, Layer, MLP), losses, optimizers, data sets, training.

micrograd's import path works: ``from tracegrad.nn import MLP, Neuron, Layer``. Each concern is
a module of its own: :mod:`~tracegrad.nn.module` (the base class: parameters by name, saving),
:mod:`~tracegrad.nn.mlp`, :mod:`~tracegrad.nn.losses`, :mod:`~tracegrad.nn.optim`,
:mod:`~tracegrad.nn.data`, :mod:`~tracegrad.nn.train` (``fit``) and :mod:`~tracegrad.nn.record` (what
``fit(..., record=...)`` keeps, for a page that replays the training).
"""

from . import data, losses, optim, record, train
from .mlp import ACTIVATIONS, INITS, MLP, Layer, Neuron
from .module import LoadError, Module
from .optim import SGD, Adam, Optimizer
from .record import Recorder, Recording
from .train import History, fit

__all__ = [
    "ACTIVATIONS", "INITS", "MLP", "SGD", "Adam", "History", "Layer", "LoadError", "Module", "Neuron",
    "Optimizer", "Recorder", "Recording", "data", "fit", "losses", "optim", "record", "train",
]
