"""The examples in docstrings run and print what they say; the README's code blocks run and print
what their comments say; the README's pictures are of the code beside them.

The README's convention for printed results, checked here: in a ```python block,

* every line that calls ``print(...)`` ends with a comment, ``# EXPECTED``;
* ``EXPECTED`` is exactly the line that call prints, where ``...`` stands for any text (as in a
  doctest with ELLIPSIS): ``print(x.grad)   # 27.0``;
* a comment in parentheses describes output that is not one line, and is not compared:
  ``print(loss.source[:400])   # (the generated code: plain Python you can read)``;
* a remark about a printed value goes on a line of its own, never after the expected text.
"""

from __future__ import annotations

import builtins
import doctest
import html
import importlib
import io
import linecache
import os
import pkgutil
import re
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

import tracegrad

import needs

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
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


BLOCKS = _python_blocks(README)
DRAWS = ("from tracegrad.viz import", "save(", "save_html", "save_frames")


def expectations(block: str) -> Dict[int, str]:
    """``{line number: expected output}`` for each print line of a block (1-based, as code objects count).

    Raises:
        AssertionError: a print line without a comment saying what it prints.
    """
    found: Dict[int, str] = {}
    for number, line in enumerate(block.splitlines(), start=1):
        if "print(" not in line.split("#", 1)[0]:
            continue
        _, sep, comment = line.partition("#")
        assert sep, f"README line {line.strip()!r} prints without saying what (add `# EXPECTED OUTPUT`)"
        expected = comment.strip()
        if not (expected.startswith("(") and expected.endswith(")")):
            found[number] = expected
    return found


def matches(expected: str, got: str) -> bool:
    """Whether ``got`` is ``expected``, where each ``...`` in it stands for any text."""
    return re.fullmatch(".*".join(map(re.escape, expected.split("..."))), got, flags=re.S) is not None


def run_block(block: str, index: int, tmp_path: Path) -> Tuple[Dict[str, Any], Dict[int, List[str]]]:
    """Run a README block in ``tmp_path``; returns its namespace and what each line printed."""
    printed: Dict[int, List[str]] = {}
    name = f"README.md block {index}"

    def recording_print(*args: Any, **kwargs: Any) -> None:
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename != name:
            frame = frame.f_back  # type: ignore[assignment]
        buffer = io.StringIO()
        builtins.print(*args, **{**kwargs, "file": buffer})
        if frame is not None:
            printed.setdefault(frame.f_lineno, []).append(buffer.getvalue().rstrip("\n"))
        elif kwargs.get("file") is None:
            sys.stdout.write(buffer.getvalue())

    namespace: Dict[str, Any] = {"__name__": "readme", "print": recording_print}
    linecache.cache[name] = (len(block), None, block.splitlines(True), name)  # tracebacks show the line
    cwd = os.getcwd()
    os.chdir(tmp_path)  # blocks that save files write them here
    try:
        exec(compile(block, name, "exec"), namespace)
    finally:
        os.chdir(cwd)
    return namespace, printed


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_code_blocks_print_what_they_say(index: int, tmp_path: Path) -> None:
    block = BLOCKS[index]
    if any(word in block for word in DRAWS):
        needs.any_renderer()
    expected = expectations(block)
    _, printed = run_block(block, index, tmp_path)
    for line, text in expected.items():
        assert line in printed, f"README block {index}, line {line}: expected {text!r}, but nothing was printed"
        for got in printed[line]:
            assert matches(text, got), f"README block {index}, line {line}: says {text!r}, prints {got!r}"


def test_the_convention_catches_a_wrong_promise(tmp_path: Path) -> None:
    block = "x = 0.1 + 0.2\nprint(x)   # 0.3\nprint(1)   # 1\n"
    expected = expectations(block)
    _, printed = run_block(block, 99, tmp_path)
    assert expected == {2: "0.3", 3: "1"} and printed == {2: ["0.30000000000000004"], 3: ["1"]}
    assert not matches(expected[2], printed[2][0]) and matches("0.3...", printed[2][0])
    with pytest.raises(AssertionError, match="prints without saying what"):
        expectations("print(2)\n")


def test_every_function_the_readme_lists_is_importable() -> None:
    listed = re.search(r"and the methods \(also functions in `tracegrad`\) (.*?) \(and", README, flags=re.S)
    assert listed, "the README's list of functions moved; update this test"
    names = re.findall(r"`(\w+)", listed.group(1))
    assert len(names) >= 10
    for name in names:
        assert callable(getattr(tracegrad, name)), name
        assert hasattr(tracegrad.Value, name), name


def _texts(svg: str) -> List[str]:
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


def _block_with(text: str) -> Tuple[int, str]:
    for index, block in enumerate(BLOCKS):
        if text in block:
            return index, block
    raise AssertionError(f"no README block holds {text!r}")


def _picture_after(block: str) -> str:
    after = README[README.index(block) + len(block):]
    found = re.search(r"!\[[^\]]*\]\(([^)]+\.svg)\)", after)
    assert found, "no picture after the block"
    return (ROOT / found.group(1)).read_text(encoding="utf-8")


def test_the_graph_picture_is_of_the_code_beside_it(tmp_path: Path) -> None:
    needs.any_renderer()
    index, block = _block_with("g = draw(o)")
    namespace, _ = run_block(block, index, tmp_path)
    from tracegrad.viz import render

    ours = render(namespace["g"], "svg").decode("utf-8")
    assert sorted(_texts(_picture_after(block))) == sorted(_texts(ours))


def test_the_step_picture_is_a_frame_of_the_code_beside_it(tmp_path: Path) -> None:
    needs.any_renderer()
    index, block = _block_with("t = trace(o)")
    namespace, _ = run_block(block, index, tmp_path)
    pictured = sorted(_texts(_picture_after(block)))
    assert any(sorted(_texts(frame.svg)) == pictured for frame in namespace["t"].frames())
