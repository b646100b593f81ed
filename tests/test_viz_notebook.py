"""Pages shown inline in notebooks: one sandboxed iframe whose srcdoc is the whole page."""

from __future__ import annotations

import html
import re
from typing import Tuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracegrad.viz.notebook import SANDBOX, NotebookPage, iframe


def srcdoc(element: str) -> str:
    pattern = r'<iframe srcdoc="([^"]*)" sandbox="([^"]*)" title="([^"]*)" style="[^"]*" loading="eager"></iframe>'
    match = re.fullmatch(pattern, element)
    assert match is not None, element
    assert match.group(2) == SANDBOX == "allow-scripts"
    return html.unescape(match.group(1))


@given(st.text())
def test_any_page_text_round_trips_through_the_attribute(page: str) -> None:
    assert srcdoc(iframe(page, height=300, title="t")) == page


def test_the_frame_has_a_height_and_a_name() -> None:
    element = iframe("<p>hi</p>", height=420, title='Backprop of "o"')
    assert "height:420px" in element and 'title="Backprop of &quot;o&quot;"' in element
    for bad in (0, -5, 1.5, True, "300"):
        with pytest.raises(ValueError, match="height must be a positive number of pixels"):
            iframe("", height=bad, title="t")  # type: ignore[arg-type]


class Page(NotebookPage):
    def notebook_page(self) -> Tuple[str, int, str]:
        return "<!DOCTYPE html><p>page</p>", 200, "a page"

    def __repr__(self) -> str:
        return "<Page>"


def test_every_notebook_protocol_shows_the_same_iframe() -> None:
    page = Page()
    bundle = page._repr_mimebundle_()
    assert bundle["text/plain"] == "<Page>"
    assert bundle["text/html"] == page._repr_html_() == page._mime_()[1]
    assert page._mime_()[0] == "text/html"
    assert srcdoc(page._repr_html_()) == "<!DOCTYPE html><p>page</p>"
