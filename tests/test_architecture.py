"""The layout is the architecture: rooms that import one way, no import circles, small modules.

The imports are read from the source (``ast``), so these tests see every ``import`` statement,
including those inside functions, without running anything. docs/ARCHITECTURE.md draws the same
order in words.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Dict, List, Set, Tuple

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tracegrad"

ROOMS = {"engine": 0, "files": 1, "nn": 2, "check": 3, "viz": 3, "compile": 3, "testing": 4, "cli": 5,
         "__main__": 6, "": 6}
"""The rooms in their one-way order: a module imports only from rooms ranked below its own (or its own
room). Rooms of the same rank are peers and never import each other."""

ENGINE = {"errors": 0, "expr": 1, "generic": 1, "ops": 2, "compat": 3, "modes": 3, "number": 3, "value": 4,
          "apply": 5, "functions": 6, "custom": 6, "autodiff": 6, "replay": 7, "": 8}
"""Inside the engine: the op table, then the node, then the chain rule (``""`` is the package's face)."""

LAZY_UPWARD = {
    # A convenience method reaching up, imported inside the method when it is called:
    ("tracegrad.engine.value", "tracegrad.engine.autodiff"),  # Value.backward, backward_steps, zero_grad
    ("tracegrad.engine.value", "tracegrad.engine.apply"),  # Value.sum
    ("tracegrad.viz.steps", "tracegrad.viz.frames"),  # Trace.frames, Trace.save_frames
    ("tracegrad.viz.steps", "tracegrad.viz.html"),  # Trace.save_html
    ("tracegrad.nn.history", "tracegrad.viz.learning"),  # History.page, save_html, notebook display
    ("tracegrad.nn.history", "tracegrad.viz.learning_plots"),  # History.plot, save_gif
}

ENGINE_STDLIB = {"__future__", "ast", "cmath", "contextvars", "dataclasses", "functools", "itertools", "math",
                 "numbers", "operator", "typing"}
"""What the engine may import besides itself: the standard library modules it uses (add one here on purpose)."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: Dict[str, Path] = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(importer: str, node: ast.ImportFrom) -> List[str]:
    """The tracegrad modules a ``from ... import ...`` reaches (a submodule where a name is one)."""
    if node.level:
        package = importer if MODULES[importer].name == "__init__.py" else importer.rsplit(".", 1)[0]
        for _ in range(node.level - 1):
            package = package.rsplit(".", 1)[0]
        base = f"{package}.{node.module}" if node.module else package
    else:
        base = node.module or ""
    if not base.startswith("tracegrad"):
        return []
    found = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES]
    return found if len(found) == len(node.names) else [*found, base]


def imports(name: str) -> Tuple[Set[str], Set[str], Set[str]]:
    """``(module-level, inside functions, third-party and standard)`` imports of a module."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    top: Set[str] = set()
    lazy: Set[str] = set()
    other: Set[str] = set()
    type_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test)
                 for n in ast.walk(node)}
    functions = {id(n) for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                 for n in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            targets = _resolve(name, node) if (node.level or (node.module or "").startswith("tracegrad")) else [
                node.module or ""]
        else:
            continue
        for target in targets:
            if not target.startswith("tracegrad"):
                other.add(target.split(".")[0])
            elif target != name:
                (lazy if id(node) in functions else top).add(target)
    return top, lazy, other


def room(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def rank(name: str) -> Tuple[int, int]:
    """Where a module stands: its room's rank, then its rank inside the engine."""
    inner = ENGINE.get(name.split(".")[2] if name.count(".") >= 2 else "", 0) if room(name) == "engine" else 0
    return ROOMS[room(name)], inner


def test_every_module_has_a_room() -> None:
    assert {room(n) for n in MODULES} <= set(ROOMS), "a module outside the rooms: add it to ROOMS and the docs"
    engine = {n.split(".")[2] if n.count(".") >= 2 else "" for n in MODULES if room(n) == "engine"}
    assert engine <= set(ENGINE), "an engine module without a place in ENGINE"


def allowed(name: str, target: str) -> bool:
    """Whether ``name`` may import ``target`` at module level by the one-way order."""
    if room(target) == room(name) != "engine":
        return True  # inside a room other than the engine, the no-circle test is the rule
    if name == f"tracegrad.{room(name)}" and room(target) == room(name):
        return True  # a package's face re-exports its own modules
    if room(name) == room(target) == "engine":
        return rank(target)[1] < rank(name)[1]
    return rank(target)[0] < rank(name)[0]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_run_one_way(name: str) -> None:
    top, lazy, _ = imports(name)
    for target in sorted(top):
        assert target in MODULES, f"{name} imports {target}, which does not exist"
        assert allowed(name, target), (
            f"{name} imports {target} at module level, against the one-way order (see docs/ARCHITECTURE.md)"
        )
    for target in sorted(lazy):
        fine = allowed(name, target) and (room(target) != room(name) or name not in reaching(target))
        assert fine or (name, target) in LAZY_UPWARD, (
            f"{name} imports {target} inside a function, reaching up or around a circle; "
            "only a convenience method may (list it in LAZY_UPWARD with its reason)"
        )


def reaching(name: str) -> Set[str]:
    """Every module that ``name``'s module-level imports reach, transitively."""
    seen: Set[str] = set()
    todo = [name]
    while todo:
        for target in imports(todo.pop())[0]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def find_circle(graph: Dict[str, List[str]]) -> List[str]:
    """A circle in ``graph`` (depth-first search: a back edge closes one), or [] if there is none."""
    state: Dict[str, int] = {}
    path: List[str] = []

    def visit(name: str) -> List[str]:
        state[name] = 1
        path.append(name)
        for target in graph.get(name, []):
            if state.get(target) == 1:
                return [*path[path.index(target):], target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        path.pop()
        state[name] = 2
        return []

    for name in graph:
        if name not in state:
            found = visit(name)
            if found:
                return found
    return []


def test_no_import_circles() -> None:
    circle = find_circle({name: sorted(imports(name)[0]) for name in MODULES})
    assert not circle, "import circle: " + " -> ".join(circle)


def test_the_checks_can_fail() -> None:
    assert find_circle({"a": ["b"], "b": ["c"], "c": ["a"], "d": []}) == ["a", "b", "c", "a"]
    assert find_circle({"a": ["b"], "b": [], "c": ["a", "b"]}) == []
    assert not allowed("tracegrad.engine.ops", "tracegrad.engine.value")  # the op table knows no graph
    assert not allowed("tracegrad.nn.mlp", "tracegrad.viz.dot")
    assert not allowed("tracegrad.viz.dot", "tracegrad.compile.trace")  # peers
    assert allowed("tracegrad.viz.dot", "tracegrad.engine")
    top, lazy, _ = imports("tracegrad.engine.value")
    assert "tracegrad.engine.ops" in top and "tracegrad.engine.autodiff" in lazy - top


def test_the_engine_needs_only_the_standard_library() -> None:
    for name in MODULES:
        if room(name) == "engine":
            top, lazy, other = imports(name)
            assert other <= ENGINE_STDLIB, f"{name} imports {sorted(other - ENGINE_STDLIB)}"
            assert all(room(t) == "engine" for t in top | lazy), f"{name} imports outside the engine"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_small(name: str) -> None:
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    limit = 320 if room(name) == "engine" else 500
    assert lines <= limit, f"{name} has {lines} lines (at most {limit}): split it by job"


def test_importing_tracegrad_imports_no_optional_dependency() -> None:
    code = ("import sys, tracegrad; heavy = {'graphviz', 'hypothesis', 'torch', 'numpy', 'matplotlib', 'tqdm'}; "
            "print(sorted(heavy & set(sys.modules)))")
    import subprocess

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("old, new", [
    ("ops", "engine.ops"), ("errors", "engine.errors"), ("expr", "engine.expr"), ("functions", "engine.functions"),
    ("losses", "nn.losses"), ("optim", "nn.optim"), ("data", "nn.data"), ("train", "nn.train"),
    ("gradcheck", "check.gradcheck"), ("anomaly", "check.anomaly"),
])
def test_the_module_paths_of_0_1_0_still_import(old: str, new: str) -> None:
    code = (f"import sys, tracegrad.{old}; from tracegrad.{old} import *; "
            f"assert sys.modules['tracegrad.{old}'] is sys.modules['tracegrad.{new}']")
    import subprocess

    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_public_imports_of_micrograd_and_the_readme() -> None:
    from tracegrad import MLP, Value, compile, gradcheck
    from tracegrad.engine import Value as EngineValue
    from tracegrad.nn import MLP as NnMLP
    from tracegrad.nn import Layer, Neuron

    assert EngineValue is Value and NnMLP is MLP and isinstance(Layer(2, 3)([1.0, 2.0]), list)
    assert isinstance(Neuron(2)([1.0, 2.0]), Value)
    assert callable(compile) and callable(gradcheck)  # the functions, not the modules of the same name
