"""The examples in docstrings run and print what they say, and the README's code blocks run."""

from __future__ import annotations

import doctest
import importlib
import os
import pkgutil
import re
from pathlib import Path
from typing import List

import pytest

import tracegrad

ROOT = Path(__file__).resolve().parent.parent
MODULES: List[str] = sorted(
    m.name for m in pkgutil.walk_packages(tracegrad.__path__, "tracegrad.") if m.name != "tracegrad.__main__"
)


@pytest.mark.parametrize("name", ["tracegrad", *MODULES])
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def _python_blocks(text: str) -> List[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("index", range(len(_python_blocks((ROOT / "README.md").read_text(encoding="utf-8")))))
def test_readme_code_blocks_run(index: int, tmp_path: Path) -> None:
    block = _python_blocks((ROOT / "README.md").read_text(encoding="utf-8"))[index]
    cwd = os.getcwd()
    os.chdir(tmp_path)  # blocks that save files write them here
    try:
        exec(compile(block, f"README.md block {index}", "exec"), {"__name__": "readme"})
    finally:
        os.chdir(cwd)
