"""rmsnorm and layernorm, functions and modules: against PyTorch float64 on generated vectors."""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracegrad.check import gradcheck
from tracegrad.engine import Value
from tracegrad.nn.norm import LayerNorm, RMSNorm, layernorm, rmsnorm

import needs
import twins

vectors = st.lists(st.floats(-4.0, 4.0, allow_nan=False, allow_subnormal=False), min_size=1, max_size=6)
gains = st.lists(st.floats(-2.0, 2.0, allow_nan=False, allow_subnormal=False), min_size=6, max_size=6)


def upstream(n: int) -> List[float]:
    """A fixed gradient from above, different per component, so every path is exercised."""
    return [1.0 - 0.3 * i for i in range(n)]


@given(x=vectors, weight=gains, bias=gains, kind=st.sampled_from(["rms", "layer"]), fused=st.booleans())
def test_modules_against_torch(x: List[float], weight: List[float], bias: List[float], kind: str,
                               fused: bool) -> None:
    torch = needs.torch()
    n = len(x)
    module = RMSNorm(n, fused=fused) if kind == "rms" else LayerNorm(n, fused=fused)
    for p, w in zip(module.weight, weight):
        p.data = w
    for p, b in zip(getattr(module, "bias", []), bias):
        p.data = b
    net = module.to_torch()
    twins.assert_same_parameters(module, net)
    xs = [Value(v) for v in x]
    out = module(xs)
    sum(g * o for g, o in zip(upstream(n), out)).backward()  # type: ignore[union-attr]
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    tout = net(tx)
    (tout * torch.tensor(upstream(n), dtype=torch.float64)).sum().backward()
    twins.close([o.data for o in out], tout.tolist())
    twins.close([v.grad for v in xs], tx.grad.tolist())
    twins.assert_same_gradients(module, net)


@given(x=vectors, eps=st.sampled_from([1e-5, 1e-3, 0.5]))
def test_functions_against_torch_without_gains(x: List[float], eps: float) -> None:
    torch = needs.torch()
    for ours, theirs in ((rmsnorm, torch.nn.functional.rms_norm), (layernorm, torch.nn.functional.layer_norm)):
        xs = [Value(v) for v in x]
        out = ours(xs, eps)
        sum(g * o for g, o in zip(upstream(len(x)), out)).backward()  # type: ignore[union-attr]
        tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        tout = theirs(tx, (len(x),), eps=eps)
        (tout * torch.tensor(upstream(len(x)), dtype=torch.float64)).sum().backward()
        twins.close([o.data for o in out], tout.tolist())
        twins.close([v.grad for v in xs], tx.grad.tolist())


@given(x=st.lists(st.floats(-2.0, 2.0, allow_nan=False, allow_subnormal=False), min_size=2, max_size=4))
def test_complex_step_agrees(x: List[float]) -> None:
    assert gradcheck(lambda *v: rmsnorm(list(v)), x, method="complex", atol=1e-9, rtol=1e-7)
    assert gradcheck(lambda *v: layernorm(list(v)), x, method="complex", atol=1e-9, rtol=1e-7)


def test_known_values_and_a_vector_of_zeros() -> None:
    assert [v.data for v in layernorm([1.0, 3.0], eps=1e-12)] == pytest.approx([-1.0, 1.0], rel=1e-12)
    assert [v.data for v in rmsnorm([0.0, 0.0])] == [0.0, 0.0]  # eps keeps it finite


def test_names_save_and_load(tmp_path: Path) -> None:
    a = LayerNorm(3)
    assert [n for n, _ in a.named_parameters()] == ["weight.0", "weight.1", "weight.2", "bias.0", "bias.1", "bias.2"]
    a.weight[1].data = 2.5
    a.save(tmp_path / "n.json")
    b = LayerNorm(3).load(tmp_path / "n.json")
    assert b.state_dict() == a.state_dict()
    assert [n for n, _ in RMSNorm(2).named_parameters()] == ["weight.0", "weight.1"]


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="rmsnorm: expected a non-empty list"):
        rmsnorm([])
    with pytest.raises(ValueError, match="layernorm: eps must be a positive number, got 0"):
        layernorm([1.0], eps=0)
    with pytest.raises(ValueError, match="rmsnorm: 2 inputs but 3 gains or biases"):
        rmsnorm([1.0, 2.0], weight=[1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="RMSNorm: eps must be a positive number"):
        RMSNorm(2, eps=-1.0)
