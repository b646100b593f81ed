"""Embedding: a token's row, or a one-hot row's mix of rows, against PyTorch float64."""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracegrad.engine import Value
from tracegrad.nn.embedding import Embedding

import needs
import twins


@st.composite
def tables_and_tokens(draw: st.DrawFn) -> tuple:
    vocab, dim = draw(st.integers(1, 6)), draw(st.integers(1, 4))
    tokens = draw(st.lists(st.integers(0, vocab - 1), min_size=1, max_size=5))
    return vocab, dim, tokens, draw(st.integers(0, 2**32 - 1)), draw(st.booleans())


@given(tables_and_tokens())
def test_lookup_and_one_hot_against_torch(case: tuple) -> None:
    torch = needs.torch()
    vocab, dim, tokens, seed, fused = case
    table = Embedding(vocab, dim, rng=seed, fused=fused)
    net = table.to_torch()
    twins.assert_same_parameters(table, net)
    rows = [[1.0 if v == t else 0.0 for v in range(vocab)] for t in tokens]
    looked_up = [table(t) for t in tokens]
    mixed = [table(row) for row in rows]
    for a, b in zip(looked_up, mixed):
        assert [v.data for v in a] == [v.data for v in b]  # one-hot: exactly the row
    coefficients = [[0.1 * (i + 1) - 0.05 * j for j in range(dim)] for i in range(len(tokens))]
    loss = sum(c * v for cs, vs in zip(coefficients, looked_up) for c, v in zip(cs, vs))
    loss.backward()  # type: ignore[union-attr]
    tout = net(torch.tensor(tokens))
    (tout * torch.tensor(coefficients, dtype=torch.float64)).sum().backward()
    twins.close([v.data for vs in looked_up for v in vs], tout.flatten().tolist())
    twins.assert_same_gradients(table, net)


@given(vocab=st.integers(2, 5), seed=st.integers(0, 1000),
       p=st.lists(st.floats(0.0, 1.0, allow_subnormal=False), min_size=5, max_size=5))
def test_a_row_of_weights_mixes_rows_and_takes_gradients(vocab: int, seed: int, p: List[float]) -> None:
    torch = needs.torch()
    table = Embedding(vocab, 3, rng=seed)
    weights = [Value(x) for x in p[:vocab]]
    out = table(weights)
    sum(out).backward()  # type: ignore[union-attr]
    tw = torch.tensor(p[:vocab], dtype=torch.float64, requires_grad=True)
    tt = torch.tensor([[w.data for w in row] for row in table.weight], dtype=torch.float64, requires_grad=True)
    tout = tw @ tt
    tout.sum().backward()
    twins.close([v.data for v in out], tout.tolist())
    twins.close([w.grad for w in weights], tw.grad.tolist())
    twins.close([w.grad for row in table.weight for w in row], tt.grad.flatten().tolist())


def test_only_the_rows_used_get_a_gradient_and_names() -> None:
    table = Embedding(4, 2, rng=0)
    sum(table(1) + table(3) + table(1)).backward()  # type: ignore[union-attr]
    assert [w.grad for row in table.weight for w in row] == [0.0, 0.0, 2.0, 2.0, 0.0, 0.0, 1.0, 1.0]
    assert table.parameters()[2].label == "weight.1.0"
    assert repr(table) == "Embedding(4, 2)"


def test_save_and_load(tmp_path: Path) -> None:
    a, b = Embedding(5, 3, rng=1), Embedding(5, 3, rng=2)
    a.save(tmp_path / "e.json")
    b.load(tmp_path / "e.json")
    assert b.state_dict() == a.state_dict()


def test_bad_tokens_are_named() -> None:
    table = Embedding(4, 2, rng=0)
    with pytest.raises(IndexError, match=r"Embedding\(4, 2\): token id must be in \[0, 4\), got 4"):
        table(4)
    with pytest.raises(IndexError, match="got -1"):
        table(-1)
    with pytest.raises(TypeError, match="expected a token id or a row of 4 weights, got bool True"):
        table(True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="expected 4 inputs, got 3"):
        table([1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="Embedding: dim must be a positive int"):
        Embedding(3, 0)
