"""Linear and dot: against PyTorch float64, fused and fine-grained alike; names, saving, errors."""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracegrad.engine import Value
from tracegrad.nn.linear import Linear, dot

import needs
import twins

xs_strategy = st.lists(st.floats(-3.0, 3.0, allow_nan=False, allow_subnormal=False), min_size=1, max_size=5)


@given(x=xs_strategy, nout=st.integers(1, 4), bias=st.booleans(), fused=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_linear_against_torch(x: List[float], nout: int, bias: bool, fused: bool, seed: int) -> None:
    torch = needs.torch()
    layer = Linear(len(x), nout, bias=bias, rng=seed, fused=fused)
    net = layer.to_torch()
    twins.assert_same_parameters(layer, net)
    inputs = [Value(v) for v in x]
    out = layer(inputs)
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    tout = net(tx)
    weights = [0.5 * (i + 1) for i in range(nout)]
    sum(w * o for w, o in zip(weights, out)).backward()  # type: ignore[union-attr]
    (tout * torch.tensor(weights, dtype=torch.float64)).sum().backward()
    twins.close([o.data for o in out], tout.tolist())
    twins.assert_same_gradients(layer, net)
    twins.close([v.grad for v in inputs], tx.grad.tolist())


@given(x=xs_strategy, seed=st.integers(0, 1000))
def test_fused_and_fine_grained_give_the_same_numbers_bit_for_bit(x: List[float], seed: int) -> None:
    fused, fine = Linear(len(x), 3, rng=seed), Linear(len(x), 3, rng=seed, fused=False)
    for p in fused.bias or []:
        p.data = 0.25
    fine.load_state_dict(fused.state_dict())
    a, b = fused(x), fine(x)
    assert [v.data for v in a] == [v.data for v in b]
    sum(a).backward()  # type: ignore[union-attr]
    sum(b).backward()  # type: ignore[union-attr]
    assert [p.grad for p in fused.parameters()] == [p.grad for p in fine.parameters()]


def test_names_and_the_fine_grained_graph() -> None:
    layer = Linear(2, 2, bias=False, rng=0, fused=False)
    assert [n for n, _ in layer.named_parameters()] == ["weight.0.0", "weight.0.1", "weight.1.0", "weight.1.1"]
    out = layer([1.0, 2.0])[0]
    assert out.op is not None and out.op.name == "sum"  # Σ(w0*x0, w1*x1): no bias node
    assert repr(layer) == "Linear(2, 2, bias=False)"


def test_dot() -> None:
    assert dot([1.0, 2.0], [3.0, 4.0]).data == 11.0
    assert dot([1.0, 2.0], [3.0, 4.0], fused=False).data == 11.0
    with pytest.raises(ValueError, match="dot: vectors of lengths 2 and 1"):
        dot([1.0, 2.0], [3.0])


def test_save_and_load(tmp_path: Path) -> None:
    a, b = Linear(3, 2, rng=1), Linear(3, 2, rng=2)
    a.save(tmp_path / "linear.json")
    b.load(tmp_path / "linear.json")
    assert b.state_dict() == a.state_dict()


def test_bad_input_names_the_layer() -> None:
    layer = Linear(3, 2, rng=0)
    with pytest.raises(ValueError, match=r"Linear\(3, 2\): expected 3 inputs, got 2"):
        layer([1.0, 2.0])
    with pytest.raises(TypeError, match="expected a list of 3 numbers"):
        layer(1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Linear: nout must be a positive int, got 0"):
        Linear(3, 0)
    with pytest.raises(ValueError, match="Linear: std must be a finite number"):
        Linear(3, 1, std=float("nan"))
