"""A tiny GPT learns to write simple sentences, one character at a time, then writes some of its own.

The text is made here (tracegrad.nn.text.sentences: "the old man finds a red apple today." and
so on, 2,000 lines from a small grammar), so nothing is downloaded. The model is a GPT with one
transformer block: 26 characters, a context of 16, vectors of 16, 4 heads, 4,208 parameters.
Each training step predicts every next character of a random 16-character window (Adam).

Three engines, the same numbers: "eager" builds every multiplication as a node, "fused" one node
per dot product, "compiled" (the default) traces the step once and replays it as float code. To
compile, the characters go in as one-hot rows rather than as ids: picking a row of the embedding
by id is a choice made in Python, which a tracer would record once and replay wrongly, while a
one-hot row is data the same code multiplies every time.

Run: python demos/gpt.py [--steps 3000] [--engine compiled|fused|eager] [--out FOLDER]
     (about a minute compiled; writes out/gpt/loss.png and the trained model, out/gpt/gpt.json)
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import output_dir, pyplot, save_figure

from tracegrad import compile
from tracegrad.nn.gpt import GPT
from tracegrad.nn.optim import Adam
from tracegrad.nn.text import Vocabulary, sentences

ENGINES = ("compiled", "fused", "eager")


@dataclass
class Outcome:
    losses: List[float] = field(default_factory=list)
    parameters: int = 0
    samples: str = ""
    steps_per_second: float = 0.0  # training steps, after the trace of the compiled step
    trace_seconds: float = 0.0
    files: List[Path] = field(default_factory=list)

    def mean_loss(self, first: int, last: int) -> float:
        part = self.losses[first:last] if last else self.losses[first:]
        return sum(part) / len(part)


def corpus(lines: int = 2000, seed: int = 0) -> Tuple[Vocabulary, List[int]]:
    """The generated text's vocabulary and the text as ids."""
    text = sentences(lines, seed=seed)
    vocab = Vocabulary(text)
    return vocab, vocab.encode(text)


def build(vocab: Vocabulary, engine: str, seed: int = 0, **sizes: Any) -> GPT:
    """The model, its weights drawn from ``seed``: the same weights for every engine."""
    options = dict(context=16, dim=16, heads=4, layers=1)
    options.update(sizes)
    return GPT(len(vocab), rng=seed, fused=engine != "eager", **options)


def training_step(model: GPT, vocab: Vocabulary, engine: str) -> Callable[[Sequence[int]], float]:
    """``step(window)``: forward and backward of the loss of predicting ``window[1:]`` from
    ``window[:-1]``; returns the loss and leaves the gradients in the parameters' ``.grad``."""
    if engine == "compiled":
        compiled = compile(lambda rows, targets: model.loss(rows, targets))

        def replay(window: Sequence[int]) -> float:
            return compiled(vocab.one_hot(window[:-1]), vocab.one_hot(window[1:]))

        return replay

    def eager(window: Sequence[int]) -> float:
        loss = model.loss(window[:-1], window[1:])
        loss.backward()
        return loss.data

    return eager


def windows(ids: Sequence[int], size: int, seed: int) -> Callable[[], List[int]]:
    """A seeded source of random windows of ``size`` ids from the text."""
    rng = random.Random(seed)

    def draw() -> List[int]:
        start = rng.randrange(len(ids) - size + 1)
        return list(ids[start : start + size])

    return draw


def train(model: GPT, vocab: Vocabulary, ids: Sequence[int], engine: str, steps: int, lr: float = 0.01,
          seed: int = 0, progress: bool = True) -> Outcome:
    """Adam with a learning rate falling linearly to 0; a progress bar shows the recent loss."""
    outcome = Outcome(parameters=len(model.parameters()))
    optimizer = Adam(model.parameters(), lr=lambda k: lr * (1 - k / steps))
    step = training_step(model, vocab, engine)
    draw = windows(ids, model.context + 1, seed)
    bar: Any = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=steps, desc=f"tiny GPT ({engine})", unit="step")
    started = time.perf_counter()
    for k in range(steps):
        optimizer.zero_grad()
        outcome.losses.append(step(draw()))
        optimizer.step()
        if k == 0:  # the first compiled step traces; time the steps after it
            outcome.trace_seconds = time.perf_counter() - started
            started = time.perf_counter()
        if bar is not None:
            bar.update()
            if k % 10 == 0:
                bar.set_postfix(loss=f"{outcome.mean_loss(-50, 0):.3f}")
    if bar is not None:
        bar.close()
    outcome.steps_per_second = (steps - 1) / (time.perf_counter() - started) if steps > 1 else math.nan
    return outcome


def main(steps: int = 3000, engine: str = "compiled", out: Optional[str] = None, seed: int = 0,
         progress: bool = True, quiet: bool = False, sample: int = 300, **sizes: Any) -> Outcome:
    if engine not in ENGINES:
        raise ValueError(f"gpt: engine must be one of {ENGINES}, got {engine!r}")
    folder = output_dir("gpt", out, quiet)
    vocab, ids = corpus(seed=seed)
    model = build(vocab, engine, seed, **sizes)
    if not quiet:
        print(f"{model}: {len(model.parameters()):,} parameters; {len(ids):,} characters of text; "
              f"{steps} steps, {engine}")
    outcome = train(model, vocab, ids, engine, steps, seed=seed, progress=progress)
    outcome.samples = vocab.decode(model.generate(vocab.encode("\n"), sample, temperature=0.8, rng=seed))
    model.save(folder / "gpt.json")
    outcome.files.append(folder / "gpt.json")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(outcome.losses, alpha=0.3, label="each step")
    width = max(1, min(100, steps // 10))
    smooth = [sum(outcome.losses[i : i + width]) / width for i in range(len(outcome.losses) - width + 1)]
    ax.plot(range(width - 1, len(outcome.losses)), smooth, label=f"mean of {width}")
    ax.axhline(math.log(len(vocab)), color="gray", linestyle=":", label="guessing (log 26)")
    ax.set(xlabel="training step", ylabel="cross-entropy (nats per character)", title="A tiny GPT learns sentences")
    ax.legend()
    outcome.files.append(save_figure(fig, folder / "loss.png"))
    if not quiet:
        print(f"loss: {outcome.mean_loss(0, 20):.3f} over the first 20 steps, {outcome.mean_loss(-100, 0):.3f} "
              f"over the last 100; {outcome.steps_per_second:.1f} steps/s"
              + (f" (after {outcome.trace_seconds:.1f} s tracing)" if engine == "compiled" else ""))
        print("samples (temperature 0.8):" + ("\n" + outcome.samples).replace("\n", "\n  "))
        print(f"wrote {folder / 'loss.png'} and {folder / 'gpt.json'}")
    return outcome


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--engine", choices=ENGINES, default="compiled")
    parser.add_argument("--out", help="folder for the outputs (default: out/gpt)")
    args = parser.parse_args()
    main(args.steps, args.engine, args.out)
