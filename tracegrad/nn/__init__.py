"""Neural nets on Values: modules (Neuron, Layer, MLP, and the sequence blocks), losses, optimizers,
data sets, training.

micrograd's import path works: ``from tracegrad.nn import MLP, Neuron, Layer``. Each concern is
a module of its own: :mod:`~tracegrad.nn.module` (the base class: parameters by name, saving),
:mod:`~tracegrad.nn.mlp`, :mod:`~tracegrad.nn.losses`, :mod:`~tracegrad.nn.optim`,
:mod:`~tracegrad.nn.data`, :mod:`~tracegrad.nn.train` (``fit``) and :mod:`~tracegrad.nn.record` (what
``fit(..., record=...)`` keeps, for a page that replays the training); for sequences
:mod:`~tracegrad.nn.linear`, :mod:`~tracegrad.nn.embedding`, :mod:`~tracegrad.nn.norm`,
:mod:`~tracegrad.nn.recurrent` (RNNCell, LSTMCell), :mod:`~tracegrad.nn.attention` (attention,
TransformerBlock), :mod:`~tracegrad.nn.gpt` and :mod:`~tracegrad.nn.text` (a generated corpus).
"""

from . import attention, data, embedding, gpt, linear, losses, norm, optim, record, recurrent, text, train
from .attention import TransformerBlock
from .embedding import Embedding
from .gpt import GPT
from .linear import Linear
from .mlp import ACTIVATIONS, INITS, MLP, Layer, Neuron
from .module import LoadError, Module
from .norm import LayerNorm, RMSNorm, layernorm, rmsnorm
from .optim import SGD, Adam, Optimizer
from .record import Recorder, Recording
from .recurrent import LSTMCell, RNNCell
from .train import History, fit

__all__ = [
    "ACTIVATIONS", "GPT", "INITS", "MLP", "SGD", "Adam", "Embedding", "History", "LSTMCell", "Layer", "LayerNorm",
    "Linear", "LoadError", "Module", "Neuron", "Optimizer", "RMSNorm", "RNNCell", "Recorder", "Recording",
    "TransformerBlock", "attention", "data", "embedding", "fit", "gpt", "layernorm", "linear", "losses", "norm",
    "optim", "record", "recurrent", "rmsnorm", "text", "train",
]
