"""A written page read as a browser's parser reads it: its start tags, and the JSON it embeds."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any, Dict, List, Optional, Tuple


def embedded(page: str, script_id: str) -> Dict[str, Any]:
    """The JSON of the page's ``<script type="application/json" id=script_id>``."""
    match = re.search(rf'<script type="application/json" id="{re.escape(script_id)}">(.*?)</script>', page, re.DOTALL)
    assert match is not None, f"no {script_id} script in the page"
    data: Dict[str, Any] = json.loads(match.group(1))
    return data


class Tags(HTMLParser):
    """Every start tag of a page with its attributes, as a browser's parser sees them."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: List[Tuple[str, Dict[str, str]]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
