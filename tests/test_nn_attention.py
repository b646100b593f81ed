"""attention and TransformerBlock: against PyTorch float64 on generated inputs; causal by construction."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracegrad.check import gradcheck
from tracegrad.engine import Value, grad
from tracegrad.nn.attention import TransformerBlock, attention, attention_weights, weighted_sum

import needs
import twins

numbers = st.floats(-3.0, 3.0, allow_nan=False, allow_subnormal=False)


@st.composite
def heads(draw: st.DrawFn) -> tuple:
    d, n, width = draw(st.integers(1, 4)), draw(st.integers(1, 5)), draw(st.integers(1, 3))
    q = draw(st.lists(numbers, min_size=d, max_size=d))
    ks = draw(st.lists(st.lists(numbers, min_size=d, max_size=d), min_size=n, max_size=n))
    vs = draw(st.lists(st.lists(numbers, min_size=width, max_size=width), min_size=n, max_size=n))
    return q, ks, vs, draw(st.none() | st.floats(0.1, 2.0)), draw(st.booleans())


@given(heads())
def test_attention_against_torch(case: tuple) -> None:
    torch = needs.torch()
    q, ks, vs, scale, fused = case
    tq, tk, tv = (torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in ([q], ks, vs))
    Q, K, V = [[Value(x) for x in row] for row in [q]], [[Value(x) for x in k] for k in ks], [
        [Value(x) for x in v] for v in vs]
    out = attention(Q[0], K, V, scale=scale, fused=fused)
    up = [1.0 + 0.5 * j for j in range(len(out))]
    sum(u * o for u, o in zip(up, out)).backward()  # type: ignore[union-attr]
    tout = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, scale=scale)
    (tout * torch.tensor([up], dtype=torch.float64)).sum().backward()
    twins.close([o.data for o in out], tout[0].tolist())
    twins.close([x.grad for x in Q[0]], tq.grad[0].tolist())
    twins.close([x.grad for k in K for x in k], tk.grad.flatten().tolist())
    twins.close([x.grad for v in V for x in v], tv.grad.flatten().tolist())


def test_the_pieces_of_attention() -> None:
    q, ks, vs = [1.0, 0.0], [[2.0, 0.0], [0.0, 5.0], [-2.0, 1.0]], [[1.0], [2.0], [3.0]]
    scores, weights = attention_weights(q, ks)
    assert [s.data for s in scores] == pytest.approx([2 / 2**0.5, 0.0, -2 / 2**0.5], rel=1e-15)
    assert sum(w.data for w in weights) == pytest.approx(1.0, rel=1e-15)
    out = weighted_sum(weights, vs)
    assert [o.data for o in out] == [o.data for o in attention(q, ks, vs)]
    assert attention([1.0], [[1.0]], [[7.0]])[0].data == 7.0  # one key: all the weight on it


def test_huge_scores_do_not_overflow() -> None:
    out = attention([1000.0], [[1000.0], [999.0]], [[1.0], [2.0]], scale=1.0)
    assert out[0].data == pytest.approx(1.0)


@given(q=st.lists(numbers, min_size=2, max_size=2), k=st.lists(numbers, min_size=4, max_size=4))
def test_complex_step_through_attention(q: List[float], k: List[float]) -> None:
    def f(q0: Value, q1: Value, *ks: Value) -> Any:
        return attention([q0, q1], [list(ks[:2]), list(ks[2:])], [[1.0, -1.0], [2.0, 0.5]])

    assert gradcheck(f, q + k, method="complex", atol=1e-10, rtol=1e-8)


@st.composite
def blocks(draw: st.DrawFn) -> tuple:
    heads, norm = draw(st.integers(1, 2)), draw(st.sampled_from(["rms", "layer"]))
    dim = heads * draw(st.integers(1, 3))
    if norm == "layer" and dim == 2:
        dim = 4  # layer norm's degenerate width: see test_nn_gpt.models
    steps = draw(st.integers(1, 4))
    xs = draw(st.lists(st.lists(numbers, min_size=dim, max_size=dim), min_size=steps, max_size=steps))
    return dim, heads, xs, norm, draw(st.booleans()), draw(st.integers(0, 2**32 - 1)), draw(st.booleans())


@settings(max_examples=50)  # each example builds a block and its PyTorch twin
@given(blocks())
def test_transformer_block_against_torch(case: tuple) -> None:
    torch = needs.torch()
    dim, heads, xs, norm, bias, seed, fused = case
    block = TransformerBlock(dim, heads, norm=norm, bias=bias, rng=seed, fused=fused, hidden=3)
    for i, p in enumerate(block.parameters()):  # gains and biases away from 1 and 0, so they are tested too
        if p.label.startswith("norm") or ".bias." in p.label:
            p.data += 0.1 * (i % 7 - 3)
    net = block.to_torch()
    twins.assert_same_parameters(block, net)
    inputs = [[Value(x) for x in row] for row in xs]
    outs = block(inputs)
    up = [[0.3 * (t + 1) - 0.2 * j for j in range(dim)] for t in range(len(xs))]
    sum(u * o for ut, ot in zip(up, outs) for u, o in zip(ut, ot)).backward()  # type: ignore[union-attr]
    tx = torch.tensor([xs], dtype=torch.float64, requires_grad=True)
    tout = net(tx)
    (tout * torch.tensor([up], dtype=torch.float64)).sum().backward()
    twins.close([o.data for row in outs for o in row], tout.flatten().tolist())
    twins.close([x.grad for row in inputs for x in row], tx.grad.flatten().tolist())
    twins.assert_same_gradients(block, net)


def test_causal_by_construction() -> None:
    block = TransformerBlock(4, 2, rng=5)
    inputs = [[Value(0.1 * (t + j)) for j in range(4)] for t in range(4)]
    outs = block(inputs)
    for t, out in enumerate(outs):
        later = [x for row in inputs[t + 1 :] for x in row]
        if later:
            assert grad(out, later, allow_unused=True) == [None] * len(later)  # not even a zero path
        earlier = [x for row in inputs[: t + 1] for x in row]
        assert all(g is not None for g in grad(out, earlier, allow_unused=True))
    changed = [list(row) for row in inputs[:2]] + [[Value(9.0)] * 4, [Value(-9.0)] * 4]
    assert [v.data for v in block(changed)[1]] == [v.data for v in outs[1]]


def test_names_save_and_load(tmp_path: Path) -> None:
    block = TransformerBlock(4, 2, rng=1)
    names = [n for n, _ in block.named_parameters()]
    assert names[:2] == ["norm1.weight.0", "norm1.weight.1"]
    assert "query.weight.3.2" in names and "fc1.weight.15.3" in names and names[-1] == "fc2.weight.3.15"
    assert block.parameters()[4].label == "query.weight.0.0"
    other = TransformerBlock(4, 2, rng=2)
    block.save(tmp_path / "b.json")
    other.load(tmp_path / "b.json")
    assert other.state_dict() == block.state_dict()


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="attention: no keys to attend to"):
        attention([1.0], [], [])
    with pytest.raises(ValueError, match="attention: the query has 2 components but key 1 has 1"):
        attention([1.0, 2.0], [[1.0, 2.0], [1.0]], [[1.0], [2.0]])
    with pytest.raises(ValueError, match="attention: 2 keys but 1 values"):
        attention([1.0], [[1.0], [2.0]], [[1.0]])
    with pytest.raises(ValueError, match="TransformerBlock: dim=5 must divide by heads=2"):
        TransformerBlock(5, 2)
    with pytest.raises(ValueError, match="TransformerBlock: unknown norm 'batch'"):
        TransformerBlock(4, norm="batch")
    with pytest.raises(ValueError, match=r"TransformerBlock\(dim=4, heads=1, norm='rms'\): expected 4 inputs"):
        TransformerBlock(4, rng=0)([[1.0, 2.0]])
