"""A recurrent net learns the parity of a bit stream; and the vanishing gradient, tanh RNN vs LSTM.

Part 1, memory: after each bit of a stream, say whether the ones so far are odd. The answer after
a bit depends on every bit before it, so a net that sees only the current bit is right half the
time; an RNNCell carries the parity in its state and learns to be right every time, on streams
twice as long as those it trained on. The training step has the same shape at every step, so it
is compiled.

Part 2, the vanishing gradient: ∂L/∂h_t, the gradient of a loss at the last step with respect to
the state t steps earlier, for a tanh RNN and an LSTM at initialisation, averaged over seeds. The
RNN's shrinks by a factor at every step back. The LSTM's cell is carried forward times its forget
gate: started open (bias 1, σ(1) ≈ 0.73, the common choice) it keeps the gradient far longer;
started near σ(0) = 0.5 (PyTorch's start) it loses it as fast as the RNN, until training opens it.

Run: python demos/recurrent.py [--out FOLDER]     (a few seconds; writes out/recurrent/*.png)
"""

from __future__ import annotations

import math
import os
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import output_dir, parse_args, pyplot, save_figure

from tracegrad import Value, compile, grad, no_grad, value_sum
from tracegrad.nn.linear import Linear
from tracegrad.nn.losses import softplus
from tracegrad.nn.optim import Adam
from tracegrad.nn.recurrent import LSTMCell, RNNCell


@dataclass
class Outcome:
    losses: List[float] = field(default_factory=list)
    accuracy: Dict[int, float] = field(default_factory=dict)  # by stream length: streams all right
    gradients: Dict[str, List[float]] = field(default_factory=dict)  # mean log10 |∂L/∂h_t|, t = 1..T
    files: List[Path] = field(default_factory=list)


def running_parity(bits: Sequence[float]) -> List[float]:
    """1.0 after each bit where the ones so far are odd, else 0.0."""
    out, odd = [], 0
    for b in bits:
        odd ^= int(b)
        out.append(float(odd))
    return out


class ParityNet:
    """An RNNCell reading one bit per step and a linear read-out of its state: a logit per step."""

    def __init__(self, hidden: int = 8, seed: int = 0) -> None:
        self.cell = RNNCell(1, hidden, rng=seed)
        self.readout = Linear(hidden, 1, rng=seed + 1)

    def parameters(self) -> List[Value]:
        return self.cell.parameters() + self.readout.parameters()

    def logits(self, bits: Sequence[Any]) -> List[Value]:
        return [self.readout(h)[0] for h in self.cell.run([[b] for b in bits])]

    def loss(self, streams: Sequence[Sequence[Any]], targets: Sequence[Sequence[Any]]) -> Value:
        """Binary cross-entropy from logits, softplus(z) - y·z, over every step of every stream
        (written out, so the targets can be inputs of the compiled step too)."""
        terms = [softplus(z) - z * y for bits, ys in zip(streams, targets) for z, y in zip(self.logits(bits), ys)]
        return value_sum(terms) * (1.0 / len(terms))

    def all_right(self, bits: Sequence[float]) -> bool:
        with no_grad():
            return all((z.data > 0) == (y == 1.0) for z, y in zip(self.logits(bits), running_parity(bits)))


def learn_parity(outcome: Outcome, steps: int = 600, length: int = 10, batch: int = 8, seed: int = 0) -> ParityNet:
    rng = random.Random(seed)
    net = ParityNet(seed=seed)
    optimizer = Adam(net.parameters(), lr=0.03)
    step = compile(net.loss)  # every step has the same shape: traced once, then replayed
    for _ in range(steps):
        streams = [[float(rng.randrange(2)) for _ in range(length)] for _ in range(batch)]
        optimizer.zero_grad()
        outcome.losses.append(step(streams, [running_parity(s) for s in streams]))
        optimizer.step()
    for n in (length, 2 * length):
        tests = [[float(rng.randrange(2)) for _ in range(n)] for _ in range(200)]
        outcome.accuracy[n] = sum(net.all_right(t) for t in tests) / len(tests)
    return net


def gradient_by_step(kind: str, steps: int = 40, hidden: int = 8, seeds: int = 10, **options: Any) -> List[float]:
    """The mean over seeds of log10 |∂L/∂h_t| for t = 1..steps, L a read-out of the last state."""
    total = [0.0] * steps
    for seed in range(seeds):
        rng = random.Random(seed)
        cell: Any = RNNCell(1, hidden, rng=seed) if kind == "rnn" else LSTMCell(1, hidden, rng=seed, **options)
        states = cell.run([[float(rng.randrange(2))] for _ in range(steps)])
        loss = Linear(hidden, 1, rng=1000 + seed)(states[-1])[0]
        flat = [v for h in states for v in h]
        grads = grad(loss, flat)
        for t in range(steps):
            norm = math.sqrt(sum(g * g for g in grads[t * hidden : (t + 1) * hidden]))
            total[t] += math.log10(max(norm, 1e-300)) / seeds
    return total


def main(out: Optional[str] = None, steps: int = 600, seeds: int = 10, quiet: bool = False) -> Outcome:
    folder = output_dir("recurrent", out, quiet)
    outcome = Outcome()
    learn_parity(outcome, steps=steps)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(outcome.losses)
    ax.set(xlabel="training step", ylabel="loss", yscale="log",
           title="RNNCell(1, 8) learns the running parity of 10 bits")
    outcome.files.append(save_figure(fig, folder / "parity.png"))
    if not quiet:
        print(f"parity: loss {outcome.losses[0]:.3f} -> {outcome.losses[-1]:.4f} in {steps} steps; streams all "
              f"right: {outcome.accuracy[10]:.0%} of 10 bits, {outcome.accuracy[20]:.0%} of 20 bits "
              "(a net without memory: 50% per bit)")

    outcome.gradients = {
        "tanh RNN": gradient_by_step("rnn", seeds=seeds),
        "LSTM, forget bias 1": gradient_by_step("lstm", seeds=seeds, forget_bias=1.0),
        "LSTM, forget bias 0": gradient_by_step("lstm", seeds=seeds, forget_bias=0.0),
    }
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, logs in outcome.gradients.items():
        back = list(range(len(logs) - 1, -1, -1))  # steps before the last
        ax.plot(back, [10**x for x in logs], label=name)
    ax.set(xlabel="steps back from the loss", ylabel=f"|∂L/∂h_t| (geometric mean, {seeds} seeds)", yscale="log",
           title="The vanishing gradient, at initialisation")
    ax.legend()
    outcome.files.append(save_figure(fig, folder / "vanishing-gradient.png"))
    if not quiet:
        for name, logs in outcome.gradients.items():
            print(f"{name:>20}: |∂L/∂h| 39 steps back ≈ 1e{logs[0]:.1f}, at the last step ≈ 1e{logs[-1]:.1f}")
    return outcome


if __name__ == "__main__":
    main(parse_args(__doc__.splitlines()[0]).out)
