"""PyTorch twins of the sequence blocks: the same computation as float64 ``torch.nn`` modules.

Each block's ``to_torch()`` comes here; PyTorch is imported only then. The twins are built from
PyTorch's own layers (``Linear``, ``Embedding``, ``RMSNorm``, ``LayerNorm``, ``RNNCell``,
``LSTMCell``) holding copies of the weights, so a model that outgrows tracegrad carries on in
PyTorch with the same numbers.
"""

from __future__ import annotations

import functools
import math
from typing import Any, List, Sequence, Tuple, Union

from ..engine import Value

Weights = Union[Sequence[Value], Sequence[Sequence[Value]]]


def copy_into(parameter: Any, values: Weights) -> None:
    """Copy the data of a vector or matrix of Values into a PyTorch parameter of that shape."""
    import torch

    items: Any = values
    rows = [[v.data for v in row] for row in items] if items and isinstance(items[0], list) else [v.data for v in items]
    with torch.no_grad():
        parameter.copy_(torch.tensor(rows, dtype=torch.float64))


def cell_to_torch(cell: Any) -> Any:
    """``torch.nn.RNNCell`` (tanh) or ``torch.nn.LSTMCell`` with the cell's weights; its one bias
    goes to ``bias_ih``, and ``bias_hh`` is 0."""
    import torch

    out: Any
    if cell.kind == "rnn":
        out = torch.nn.RNNCell(cell.nin, cell.hidden, nonlinearity="tanh", dtype=torch.float64)
    else:
        out = torch.nn.LSTMCell(cell.nin, cell.hidden, dtype=torch.float64)
    copy_into(out.weight_ih, cell.weight_ih)
    copy_into(out.weight_hh, cell.weight_hh)
    copy_into(out.bias_ih, cell.bias)
    with torch.no_grad():
        out.bias_hh.zero_()
    return out


def block_to_torch(block: Any) -> Any:
    """A PyTorch module computing what ``block`` (a TransformerBlock) computes, on ``(batch, time, dim)``."""
    return _classes()[0](block)


def gpt_to_torch(model: Any) -> Any:
    """A PyTorch module computing what ``model`` (a GPT) computes: ``(batch, time)`` ids to logits."""
    return _classes()[1](model)


@functools.cache
def _classes() -> Tuple[Any, Any]:
    """The twin classes, defined on first use (they subclass ``torch.nn.Module``)."""
    import torch

    class Block(torch.nn.Module):  # type: ignore[misc,name-defined]
        """Pre-norm causal self-attention and a ReLU MLP, each added back onto its input."""

        def __init__(self, block: Any) -> None:
            super().__init__()
            self.heads = block.heads
            for name, part in block.parts():
                setattr(self, name, part.to_torch())

        def forward(self, x: Any) -> Any:
            part: Any = self  # the parts set in __init__, by name
            batch, time, dim = x.shape
            size = dim // self.heads
            h = part.norm1(x)
            q, k, v = (f(h).view(batch, time, self.heads, size).transpose(1, 2)
                       for f in (part.query, part.key, part.value))
            scores = q @ k.transpose(-2, -1) / math.sqrt(size)
            later = torch.ones(time, time, dtype=torch.bool).triu(1)  # a query sees no later key
            weights = scores.masked_fill(later, float("-inf")).softmax(dim=-1)
            mixed = (weights @ v).transpose(1, 2).reshape(batch, time, dim)
            x = x + part.proj(mixed)
            return x + part.fc2(torch.relu(part.fc1(part.norm2(x))))

    class GPT(torch.nn.Module):  # type: ignore[misc,name-defined]
        """Token and position embeddings, the blocks, a final norm and the map to logits."""

        def __init__(self, model: Any) -> None:
            super().__init__()
            self.token = model.token.to_torch()
            self.position = model.position.to_torch()
            self.blocks = torch.nn.ModuleList([b.to_torch() for b in model.blocks])
            self.norm = model.norm.to_torch()
            self.head = model.head.to_torch()

        def forward(self, ids: Any) -> Any:
            part: Any = self
            x = part.token(ids) + part.position(torch.arange(ids.shape[1]))
            for block in part.blocks:
                x = block(x)
            return part.head(part.norm(x))

    return Block, GPT


__all__: List[str] = ["block_to_torch", "cell_to_torch", "copy_into", "gpt_to_torch"]
