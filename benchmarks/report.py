"""The benchmark's report: the machine, times as text, and the Markdown tables."""

from __future__ import annotations

import os
import platform
from typing import Any, Dict, List

Row = Dict[str, Any]


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds >= 0.01 else f"{seconds * 1e3:.2f} ms"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def markdown(rows: List[Row], batches: List[Row], meta: Dict[str, Any]) -> str:
    """The training-step and chain rows, then the batch-size rows, as Markdown tables."""
    lines = [
        f"Measured {meta['date']} on {meta['machine']}; `{meta['command']}`.",
        "Engines alternate, each turn in a fresh process; times are of the steps after each turn's first",
        "(the first is the \"first\" column); ratios are to micrograd 0.1.0 at its default garbage-collector",
        "settings: of the medians (wall clock), of the minimums, and of the medians of CPU time.",
        "",
        "| workload | engine | median | min | CPU median | first step | × micrograd (medians) | × (mins) "
        "| × (CPU) | target | met |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['workload']} | {r['engine']} | {r['median']} | {r.get('min', '')} | {r.get('cpu', '')} "
            f"| {r.get('first', '')} | {r.get('ratio', '')} | {r.get('ratio_min', '')} | {r.get('ratio_cpu', '')} "
            f"| {r.get('target', '')} | {r.get('met', '')} |"
        )
    if batches:
        lines += [
            "",
            "Batch size: micrograd's step on N two-moons points, `MLP(2, [16, 16, 1], fused=True)` (the fine-grained",
            "graph where it says so); the engines of a batch size alternate, up to 3 rounds, each turn in a",
            "fresh process; BLAS and PyTorch on one thread. Compile: `Compiled.prepare` (trace, analysis,",
            "code), the median turn; memory: the largest growth of a turn's peak RSS through compiling and",
            "the first call; ms/step:",
            "steps after the first, wall clock, and the median CPU time, which the µs/sample and the targets",
            "compare (the machine is shared: CPU time is less swayed by other processes); vs eager: the largest",
            "difference from the eager engine's loss and gradients, relative to the largest gradient.",
            "",
            "| N | engine | compile | peak memory | code lines | ms/step median (min) | CPU ms/step | µs/sample (CPU) "
            "| vs eager | target | met |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in batches:
            lines.append(
                f"| {r['batch']:,} | {r['engine']} | {r.get('compile', '')} | {r.get('memory', '')} "
                f"| {r.get('lines', '')} | {r.get('step', '')} | {r.get('cpu', '')} | {r.get('per_sample', '')} "
                f"| {r.get('vs_eager', '')} "
                f"| {r.get('target', '')} | {r.get('met', '')} |"
            )
    return "\n".join(lines) + "\n"
