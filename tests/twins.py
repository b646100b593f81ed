"""Comparing a tracegrad module with its PyTorch twin (``to_torch()``), parameter by parameter.

Our dotted names end in indices into PyTorch's tensors: ``blocks.0.fc1.weight.3.2`` is
``blocks.0.fc1.weight[3][2]``. The recurrent cells' one ``bias`` is PyTorch's ``bias_ih``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Sequence, Tuple

import pytest

from tracegrad.nn import Module

TOLERANCE = 1e-12

RENAMED = {"bias": "bias_ih"}
"""Our names that PyTorch spells otherwise (in the recurrent cells)."""


def split(name: str) -> Tuple[str, Tuple[int, ...]]:
    """``"blocks.0.fc1.weight.3.2"`` -> ``("blocks.0.fc1.weight", (3, 2))``: the tensor and the index."""
    parts = name.split(".")
    index: List[int] = []
    while parts and parts[-1].isdigit():
        index.insert(0, int(parts.pop()))
    return ".".join(parts), tuple(index)


def torch_tensors(net: Any, attribute: str) -> Dict[str, Any]:
    """The twin's parameters (``"data"``) or their gradients (``"grad"``) by name."""
    return {name: getattr(p, attribute) for name, p in net.named_parameters()}


def pairs(model: Module, net: Any, attribute: str) -> List[Tuple[str, float, float]]:
    """``(name, ours, PyTorch's)`` for every parameter: its data or its gradient."""
    tensors = torch_tensors(net, attribute)
    found = []
    for name, p in model.named_parameters():
        base, index = split(name)
        head, _, last = base.rpartition(".")
        key = base if base in tensors else ".".join(filter(None, [head, RENAMED.get(last, last)]))
        tensor = tensors[key]
        theirs = 0.0 if tensor is None else float(tensor[index] if index else tensor)
        found.append((name, p.data if attribute == "data" else p.grad, theirs))
    return found


def assert_same_parameters(model: Module, net: Any) -> None:
    """Every parameter of ``model`` has its twin in ``net`` with the same value (and nothing is left over)."""
    for name, ours, theirs in pairs(model, net, "data"):
        assert ours == theirs, name
    size = sum(p.numel() for p in net.parameters())
    renamed_extra = sum(p.numel() for n, p in net.named_parameters() if n.endswith("bias_hh"))
    assert len(model.parameters()) == size - renamed_extra


def assert_same_gradients(model: Module, net: Any, tol: float = TOLERANCE) -> None:
    """Every parameter's gradient equals its twin's, to ``tol`` (relative or absolute)."""
    for name, ours, theirs in pairs(model, net, "grad"):
        assert ours == pytest.approx(theirs, rel=tol, abs=tol), name


def close(ours: Sequence[float], theirs: Sequence[float], tol: float = TOLERANCE) -> None:
    assert list(ours) == pytest.approx(list(theirs), rel=tol, abs=tol)
