"""The tiny GPT demo's training steps per second: eager, fused and compiled, side by side in one run.

The engines take turns (alternating, several rounds); each turn runs in a fresh process that
builds the demo's model from the same seed and trains it on the same windows for about a time
budget. The compiled engine's first step traces the graph and writes its code; that time is
reported on its own and left out of its steps per second.

    python benchmarks/gpt.py                 # 5 rounds of about 8 s per engine
    python benchmarks/gpt.py --rounds 3 --budget 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "demos"))
sys.path.insert(0, ROOT)

import gpt as demo  # noqa: E402

from tracegrad.nn.optim import Adam  # noqa: E402


def worker(engine: str, budget: float) -> Dict[str, float]:
    """Train for about ``budget`` seconds; the steps per second after the first step, and its time."""
    vocab, ids = demo.corpus()
    model = demo.build(vocab, engine)
    optimizer = Adam(model.parameters(), lr=0.01)
    step = demo.training_step(model, vocab, engine)
    draw = demo.windows(ids, model.context + 1, 0)
    started = time.perf_counter()
    step(draw())
    optimizer.step()
    first = time.perf_counter() - started
    steps, started = 0, time.perf_counter()
    while time.perf_counter() - started < budget:
        optimizer.zero_grad()
        step(draw())
        optimizer.step()
        steps += 1
    return {"steps_per_second": steps / (time.perf_counter() - started), "first_step_seconds": first}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--budget", type=float, default=8.0, help="seconds of training per turn")
    parser.add_argument("--worker", choices=demo.ENGINES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.budget)))
        return 0
    results: Dict[str, List[Dict[str, float]]] = {e: [] for e in demo.ENGINES}
    for r in range(args.rounds):
        order = demo.ENGINES if r % 2 == 0 else tuple(reversed(demo.ENGINES))
        for engine in order:
            out = subprocess.run([sys.executable, __file__, "--worker", engine, "--budget", str(args.budget)],
                                 capture_output=True, text=True, check=True)
            results[engine].append(json.loads(out.stdout))
        print(f"round {r + 1}/{args.rounds}: " + ", ".join(
            f"{e} {results[e][-1]['steps_per_second']:.2f}" for e in demo.ENGINES), flush=True)
    eager = statistics.median(x["steps_per_second"] for x in results["eager"])
    print(f"\nThe tiny GPT demo (GPT(26, context 16, dim 16, 4 heads, 1 block), one 16-character window a step), "
          f"{args.rounds} rounds of ~{args.budget:g} s:")
    print(f"{'engine':<10} {'steps/s median':>15} {'min-max':>15} {'× eager':>8}  first step (s)")
    for engine in reversed(demo.ENGINES):
        rates = [x["steps_per_second"] for x in results[engine]]
        first = statistics.median(x["first_step_seconds"] for x in results[engine])
        median = statistics.median(rates)
        print(f"{engine:<10} {median:>15.2f} {f'{min(rates):.2f}-{max(rates):.2f}':>15} {median / eager:>7.1f}×  "
              f"{first:.2f}" + ("  (traces the step and writes its code)" if engine == "compiled" else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
