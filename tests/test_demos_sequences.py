"""The sequence demos reach their documented outcomes: the attention head's step-through, the
recurrent net's parity and vanishing gradient, and the tiny GPT's falling loss."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import pytest

import needs

DEMOS = Path(__file__).resolve().parent.parent / "demos"
sys.path.insert(0, str(DEMOS))

import attention_head  # noqa: E402
import gpt  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


# --- one attention head, step by step


def test_the_attention_heads_trace_speaks_in_the_learners_names() -> None:
    names = attention_head.build()
    t = attention_head.trace(names["out"])
    forward = [t.forward_text(r) for r in t.forward]
    assert "score2 = q*k2 = 1*2 = 2" in forward
    assert "m = max(score1, score2, score3) = max(0.5, 2, -1) = 2" in forward
    assert "e1 = exp(d1) = exp(-1.5) = 0.2231" in forward
    assert "weight2 = e2/total = 1/1.273 = 0.7856" in forward
    assert "out = wv1 + wv2 + wv3 = 0.1753 + (-1.571) + 0.1173 = -1.279" in forward
    steps = [t.step_text(s) for s in t.steps]
    assert "∂out/∂weight2 += ∂wv2/∂weight2 × ∂out/∂wv2 = v2 × 1 = -2 × 1 = -2" in steps
    assert steps[-1].startswith("∂out/∂k1 += ∂score1/∂k1 × ∂out/∂score1 = q × 0.3994 = 1 × 0.3994")
    shift = [s for s in t.steps if s.node is names["m"]]  # the shift passes nothing back
    assert [t.name(s.input) for s in shift] == ["score1", "score2", "score3"]
    assert all(s.local == 0.0 and s.contribution == 0.0 and s.formula == "0" for s in shift)
    words = t.step_words(shift[0])
    assert words.startswith("m = max(score1, score2, score3) passes its gradient back to score1. ")
    texts = forward + steps
    for name in ["q", "k1", "k2", "k3", "v1", "v2", "v3", "score1", "score3", "weight1", "weight3"]:
        assert any(name in line for line in texts), name
    assert not any(f"v{n}" in line for n in range(8, 26) for line in texts)  # every node has a name


def test_the_attention_heads_gradients_are_pytorchs() -> None:
    torch = needs.torch()
    names = attention_head.build()
    names["out"].backward()
    q = torch.tensor([[1.0]], dtype=torch.float64, requires_grad=True)
    k = torch.tensor([[0.5], [2.0], [-1.0]], dtype=torch.float64, requires_grad=True)
    v = torch.tensor([[1.0], [-2.0], [3.0]], dtype=torch.float64, requires_grad=True)
    out = torch.nn.functional.scaled_dot_product_attention(q, k, v)
    out.sum().backward()
    assert names["out"].data == pytest.approx(out.item(), rel=1e-12)
    ours = [names[n].grad for n in ["q", "k1", "k2", "k3", "v1", "v2", "v3"]]
    want = q.grad.flatten().tolist() + k.grad.flatten().tolist() + v.grad.flatten().tolist()
    assert ours == pytest.approx(want, rel=1e-12, abs=1e-15)


def test_the_attention_head_page_is_written(tmp_path: Path) -> None:
    needs.any_renderer()
    outcome = attention_head.main(str(tmp_path), quiet=True)
    page = Path(outcome.page).read_text(encoding="utf-8")
    assert Path(outcome.page).parent == tmp_path and page.startswith("<!DOCTYPE html>")
    assert "score1" in page and "weight3" in page and "k2" in page
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp")]


# --- the recurrent net


def test_the_recurrent_net_learns_parity_and_the_gradient_vanishes(tmp_path: Path, capsys: Any) -> None:
    needs.matplotlib()
    import recurrent

    outcome = recurrent.main(str(tmp_path), seeds=4)
    assert outcome.losses[0] == pytest.approx(math.log(2), abs=0.01)
    assert outcome.losses[-1] < 0.01
    assert outcome.accuracy == {10: 1.0, 20: 1.0}  # every stream right, also twice as long as in training
    rnn, lstm, lstm0 = outcome.gradients.values()
    assert rnn[0] < -8 and lstm0[0] < -8  # 39 steps back: below 1e-8 (at the last step: about 1)
    assert lstm[0] > -5 and lstm[0] > rnn[0] + 4  # forget gate open: 10,000 times more survives
    for f in outcome.files:
        assert f.parent == tmp_path and f.read_bytes()[:8] == PNG
    assert "streams all right: 100% of 10 bits, 100% of 20 bits" in capsys.readouterr().out


# --- the tiny GPT


def test_the_engines_train_the_gpt_alike() -> None:
    vocab, ids = gpt.corpus(lines=200)
    losses = {}
    for engine in gpt.ENGINES:
        model = gpt.build(vocab, engine, context=6, dim=4, heads=2)
        step = gpt.training_step(model, vocab, engine)
        draw = gpt.windows(ids, 7, 0)
        losses[engine] = []
        for _ in range(3):
            model.zero_grad()
            losses[engine].append(step(draw()))
            for p in model.parameters():
                p.data -= 0.1 * p.grad
    # the same losses up to rounding: the gradients add the same terms in another order
    assert losses["fused"][0] == losses["eager"][0]
    assert losses["fused"] == pytest.approx(losses["eager"], rel=1e-12)
    assert losses["compiled"] == pytest.approx(losses["eager"], rel=1e-12)


GPT_SMALL = dict(steps=120, engine="compiled", context=8, dim=8, heads=2)


def test_a_small_gpt_run_lowers_the_loss(tmp_path: Path) -> None:
    needs.matplotlib()
    outcome = gpt.main(out=str(tmp_path), progress=False, quiet=True, sample=30, **GPT_SMALL)  # type: ignore[arg-type]
    assert outcome.mean_loss(0, 20) > 3.3  # about log 26: guessing
    assert outcome.mean_loss(-20, 0) < 3.0
    assert len(outcome.samples) == 30
    assert (tmp_path / "loss.png").read_bytes()[:8] == PNG
    assert (tmp_path / "gpt.json").read_text().startswith("{")


@pytest.mark.slow
def test_the_gpt_demo_learns_within_its_3000_steps(tmp_path: Path) -> None:
    needs.matplotlib()
    outcome = gpt.main(out=str(tmp_path), progress=False, quiet=True)
    assert outcome.parameters == 4208
    assert outcome.mean_loss(-100, 0) < 1.0  # from log 26 = 3.26 (its run gives 0.72)
    words = outcome.samples.split()
    known = {w.strip(".") for line in gpt.sentences(2000).splitlines() for w in line.split()}
    assert sum(w.strip(".") in known for w in words) > len(words) / 2  # mostly real words
