"""The test suite's own set-up: the `dev` extra installs what the suite imports, and every skip
says exactly what to install (CI installs everything, so there nothing may skip)."""

from __future__ import annotations

import ast
import configparser
import importlib
import re
import shutil
import sys
from pathlib import Path
from typing import Any, Callable, Set

import pytest

import needs

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTION = {"graphviz_pure": "graphviz-pure", "jupyter_client": "jupyter-client"}
"""Where a module's distribution is named otherwise."""
SYSTEM = {"__future__", "needs", "tracegrad", "conftest", "_common"}


def third_party_imports() -> Set[str]:
    """The top-level modules the tests import (importorskip too) that are not the standard library."""
    found: Set[str] = set()
    for path in (ROOT / "tests").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "importorskip":
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.add(first.value.split(".")[0])
    ours = {p.stem for folder in ("demos", "benchmarks", "tests") for p in (ROOT / folder).glob("*.py")}
    return {m for m in found if m not in sys.stdlib_module_names and m not in SYSTEM and m not in ours}


@pytest.mark.skipif(sys.version_info < (3, 10), reason="reads sys.stdlib_module_names: run it on Python 3.10 or newer")
def test_the_dev_extra_and_the_ci_peers_install_everything_the_suite_imports() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    names = {re.split(r"[<>=!~ \[]", line.strip())[0].lower()
             for line in config["options.extras_require"]["dev"].splitlines() if line.strip()}
    peers = {re.split(r"[<>=!~ ]", line.strip())[0].lower()
             for line in (ROOT / ".ci" / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")}
    wanted = {DISTRIBUTION.get(m, m).lower() for m in third_party_imports()}
    assert "playwright" in names  # the browser tests: `make test` with Chromium installed runs them
    assert wanted <= names | peers, sorted(wanted - names - peers)
    assert peers == {"torch", "micrograd"}  # only the peers compared against are CI-only


HELPERS: Any = [needs.torch, needs.micrograd, needs.matplotlib, needs.tqdm, needs.numpy, needs.playwright,
                needs.chromium, needs.any_renderer, needs.notebook, lambda: needs.renderer("dot"),
                lambda: needs.renderer("graphviz-pure")]


@pytest.mark.parametrize("helper", range(len(HELPERS)))
def test_every_skip_says_exactly_what_to_install(helper: int, monkeypatch: Any) -> None:
    for module in ("torch", "micrograd", "matplotlib", "tqdm", "numpy", "playwright", "playwright.sync_api",
                   "nbformat", "nbclient", "nbconvert", "ipykernel"):
        monkeypatch.setitem(sys.modules, module, None)  # as on a machine without them
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    monkeypatch.setattr(importlib.import_module("tracegrad.viz.render"), "available_renderers", lambda: [])
    call: Callable[[], Any] = HELPERS[helper]
    with pytest.raises(pytest.skip.Exception) as skipped:
        call()
    reason = str(skipped.value)
    assert re.search(r"`(pip install [^`]+|apt install \w+)`", reason), reason
