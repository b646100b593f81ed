"""Label text made safe for DOT: any text a user gives can neither break the DOT nor inject markup.

Graphviz decodes ``&...;`` entities and backslash escapes (``\\N``, ``\\l``) in labels and reads
``{ } | < >`` as structure in record labels, so each is escaped here; control characters
(which XML forbids in the SVG) become U+FFFD. Graphviz itself escapes ``< > & "`` when it writes
SVG, so a label like ``</script>`` shows as text.
"""

from __future__ import annotations

import math
import re
from typing import Any

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_RECORD_SPECIAL = re.compile(r'([\\{}|<>"])')


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("\ufffd", text).replace("&", "&amp;")


def plain(text: str) -> str:
    """``text`` as the content of a quoted DOT string shown as is (newlines kept)."""
    return _clean(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def record_field(text: str) -> str:
    """``text`` as one field of a record label, inside a quoted DOT string."""
    return _RECORD_SPECIAL.sub(r"\\\1", _clean(text)).replace("\n", "\\n")


def record(*fields: str, stacked: bool = False) -> str:
    """A record label ``{ a | b | c }`` from already escaped fields: drawn across with rankdir=LR,
    or one field above the other if ``stacked`` (a narrower box, for compact pictures)."""
    inner = " | ".join(fields)
    return inner if stacked else "{ " + inner + " }"


def number(x: Any, precision: int = 4) -> str:
    """A float for a picture: ``0.5``, ``-6``, ``1.2346e-05``, ``nan``; Values show their data."""
    if hasattr(x, "data"):
        x = x.data
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return str(x)
    if x == 0:
        return "0"
    text = f"{x:.{precision}g}"
    return text
