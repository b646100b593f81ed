"""RNNCell and LSTMCell: sequences against PyTorch float64 (outputs and every gradient); names, saving."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracegrad.engine import Value
from tracegrad.nn.recurrent import LSTMCell, RNNCell

import needs
import twins

numbers = st.floats(-2.0, 2.0, allow_nan=False, allow_subnormal=False)


@st.composite
def sequences(draw: st.DrawFn) -> tuple:
    nin, hidden, steps = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    xs = draw(st.lists(st.lists(numbers, min_size=nin, max_size=nin), min_size=steps, max_size=steps))
    start = draw(st.none() | st.lists(numbers, min_size=2 * hidden, max_size=2 * hidden))
    return nin, hidden, xs, start, draw(st.integers(0, 2**32 - 1)), draw(st.booleans())


def weights(t: int, j: int) -> float:
    """The loss's weight on component j of the state after step t: every path counts."""
    return 0.5 - 0.25 * t + 0.125 * j


@given(case=sequences(), kind=st.sampled_from(["rnn", "lstm"]))
def test_cells_against_torch(case: tuple, kind: str) -> None:
    torch = needs.torch()
    nin, hidden, xs, start, seed, fused = case
    cell: Any = RNNCell(nin, hidden, rng=seed, fused=fused) if kind == "rnn" else LSTMCell(
        nin, hidden, rng=seed, fused=fused, forget_bias=0.5)
    net = cell.to_torch()
    twins.assert_same_parameters(cell, net)
    inputs = [[Value(v) for v in x] for x in xs]
    h0: Optional[List[Value]] = None if start is None else [Value(v) for v in start[:hidden]]
    c0: Optional[List[Value]] = None if start is None else [Value(v) for v in start[hidden:]]
    state: Any = h0 if kind == "rnn" else (None if start is None else (h0, c0))
    hs = cell.run(inputs, state)
    sum(weights(t, j) * v for t, h in enumerate(hs) for j, v in enumerate(h)).backward()  # type: ignore[union-attr]

    tx = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    th0 = torch.tensor([start[:hidden] if start else [0.0] * hidden], dtype=torch.float64, requires_grad=True)
    tc0 = torch.tensor([start[hidden:] if start else [0.0] * hidden], dtype=torch.float64, requires_grad=True)
    tstate: Any = th0 if kind == "rnn" else (th0, tc0)
    touts = []
    for t in range(len(xs)):
        tstate = net(tx[t : t + 1], tstate)
        touts.append(tstate if kind == "rnn" else tstate[0])
    tw = torch.tensor([[weights(t, j) for j in range(hidden)] for t in range(len(xs))], dtype=torch.float64)
    (torch.cat(touts) * tw).sum().backward()

    twins.close([v.data for h in hs for v in h], torch.cat(touts).flatten().tolist())
    twins.close([v.grad for x in inputs for v in x], tx.grad.flatten().tolist())
    twins.assert_same_gradients(cell, net)
    if start is not None:
        twins.close([v.grad for v in h0 or []], th0.grad.flatten().tolist())
        if kind == "lstm":
            twins.close([v.grad for v in c0 or []], tc0.grad.flatten().tolist())


def test_names_follow_pytorch_layout() -> None:
    cell = LSTMCell(2, 3, rng=0)
    names = [n for n, _ in cell.named_parameters()]
    assert names[0] == "weight_ih.0.0" and names[-1] == "bias.11" and len(names) == 12 * 2 + 12 * 3 + 12
    assert [b.data for b in cell.bias] == [0.0] * 3 + [1.0] * 3 + [0.0] * 6  # the forget gate starts at 1
    assert repr(RNNCell(1, 4, rng=0)) == "RNNCell(1, 4)"


def test_fused_and_fine_grained_cells_agree_bit_for_bit() -> None:
    a, b = LSTMCell(2, 2, rng=3), LSTMCell(2, 2, rng=3, fused=False)
    xs = [[0.5, -1.0], [1.5, 0.25], [-0.75, 2.0]]
    ha, hb = a.run(xs), b.run(xs)
    assert [v.data for h in ha for v in h] == [v.data for h in hb for v in h]
    ha[-1][0].backward()
    hb[-1][0].backward()
    assert [p.grad for p in a.parameters()] == [p.grad for p in b.parameters()]


def test_save_and_load(tmp_path: Path) -> None:
    a, b = RNNCell(2, 3, rng=1), RNNCell(2, 3, rng=2)
    a.save(tmp_path / "rnn.json")
    b.load(tmp_path / "rnn.json")
    assert b.state_dict() == a.state_dict()


def test_bad_input_is_named() -> None:
    cell = RNNCell(2, 3, rng=0)
    with pytest.raises(ValueError, match=r"RNNCell\(2, 3\) \(input\): expected 2 inputs, got 1"):
        cell([1.0])
    with pytest.raises(ValueError, match=r"RNNCell\(2, 3\) \(state\): expected 3 inputs, got 2"):
        cell([1.0, 2.0], [0.0, 0.0])
    with pytest.raises(ValueError, match="LSTMCell: hidden must be a positive int"):
        LSTMCell(1, 0)
    with pytest.raises(ValueError, match="LSTMCell: forget_bias must be a finite number"):
        LSTMCell(1, 1, forget_bias=float("inf"))
