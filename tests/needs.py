"""Optional dependencies of the suite: import them, or skip with a reason that says how to get them."""

from __future__ import annotations

import importlib
import importlib.util
import shutil
from types import ModuleType
from typing import Any

import pytest

DEV = "pip install -e '.[dev]'"
"""What installs everything the suite needs but the peers (torch, micrograd) and system programs."""


def torch() -> ModuleType:
    """PyTorch, the second gradient oracle (CPU build is enough)."""
    return pytest.importorskip(
        "torch",
        reason="PyTorch is not installed: `pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu` "
               "(the CPU build) to compare against it",
    )


def micrograd() -> ModuleType:
    """micrograd 0.1.0 (with its ``engine`` and ``nn`` submodules loaded), for the compatibility tests."""
    package = pytest.importorskip(
        "micrograd", reason="micrograd is not installed: `pip install micrograd==0.1.0` for the compatibility tests"
    )
    importlib.import_module("micrograd.engine")
    importlib.import_module("micrograd.nn")
    return package


def executable(name: str, how: str) -> str:
    """The path of a program on PATH, or skip saying how to install it."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not on PATH: {how}")
    return path


def chromium() -> str:
    """The system's Chromium, which the browser tests drive."""
    return executable("chromium", "install Chromium (`apt install chromium`) for the browser tests")


def playwright() -> ModuleType:
    """Playwright's sync API, which drives the system's Chromium (no `playwright install` needed)."""
    return pytest.importorskip(
        "playwright.sync_api",
        reason=f"Playwright is not installed: `{DEV}` (or `pip install playwright`) for the browser tests",
    )


def matplotlib() -> ModuleType:
    """matplotlib, for the demos' pictures (with the non-interactive Agg backend)."""
    module = pytest.importorskip(
        "matplotlib", reason=f"matplotlib is not installed: `{DEV}` (or `pip install matplotlib`) for the demos"
    )
    module.use("Agg")
    return module


def tqdm() -> ModuleType:
    """tqdm, for fit()'s progress bar."""
    return pytest.importorskip("tqdm", reason=f"tqdm is not installed: `{DEV}` (or `pip install tqdm`)")


def notebook() -> None:
    """nbformat, nbclient, nbconvert and ipykernel: to run a notebook and convert it to HTML."""
    for name in ("nbformat", "nbclient", "nbconvert", "ipykernel"):
        how = "`pip install nbformat nbclient nbconvert ipykernel` (or the dev extra) for the notebook test"
        pytest.importorskip(name, reason=f"{name} is not installed: {how}")


def numpy() -> ModuleType:
    """NumPy: compile's vectorised programs, and its scalars as numbers."""
    return pytest.importorskip("numpy", reason=f"NumPy is not installed: `{DEV}` (or `pip install numpy`)")


def has_numpy() -> bool:
    """Whether NumPy is installed (for a test that also runs without it)."""
    return importlib.util.find_spec("numpy") is not None


RENDERERS = ("dot", "graphviz-pure")
RENDERER_HOW = {
    "dot": "install Graphviz (`apt install graphviz` / `brew install graphviz`)",
    "graphviz-pure": f"`{DEV}` (or `pip install graphviz-pure`)",
}


def renderer(name: str) -> Any:
    """The Graphviz renderer called ``name`` (system ``dot`` or ``graphviz-pure``), or skip."""
    from tracegrad.viz.render import available_renderers

    if name == "dot":
        executable("dot", RENDERER_HOW["dot"])
    for found in available_renderers():
        if found.name == name:
            return found
    pytest.skip(f"{name} is not installed: {RENDERER_HOW[name]}")


def any_renderer() -> Any:
    """The first Graphviz renderer found, or skip saying how to get one."""
    from tracegrad.viz.render import available_renderers

    found = available_renderers()
    if not found:
        pytest.skip(f"no Graphviz renderer: {RENDERER_HOW['dot']}, or {RENDERER_HOW['graphviz-pure']}")
    return found[0]
