"""A picture's node and edge groups as comparable data: what a frame drawn by the renderer holds,
and what the page holds after its script restyled its one drawing (the same data read in the browser)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any, Dict, List

SVG = "{http://www.w3.org/2000/svg}"

Part = List[Any]
"""One element of a group: ``[tag, attributes, text]`` (only a text element has a text); a list, as
the browser gives it back."""


def groups(svg: str) -> Dict[str, List[Part]]:
    """Each node's and edge's group by element id (``v3``, ``e5_0``; a frame's prefix taken off):
    its elements but the title, in order, leaving out a text that shows nothing."""
    found: Dict[str, List[Part]] = {}
    for g in ET.fromstring(svg).iter(f"{SVG}g"):
        if g.get("class") not in ("node", "edge"):
            continue
        parts: List[Part] = []
        for child in g:
            tag = child.tag[len(SVG):]
            text = "".join(child.itertext()) if tag == "text" else ""
            if tag == "title" or (tag == "text" and not text.strip()):
                continue
            parts.append([tag, {k: v for k, v in child.attrib.items() if not k.startswith("{")}, text])
        found[re.sub(r"^(f\d+|g)_", "", g.get("id", ""))] = parts
    return found


IN_PAGE = """() => {
  // the same as groups() above, read from the page's drawing as its script left it
  const found = {};
  for (const g of document.querySelectorAll('#stage g.node, #stage g.edge')) {
    const parts = [];
    for (const child of g.children) {
      const tag = child.tagName.toLowerCase();
      const text = tag === 'text' ? child.textContent : '';
      if (tag === 'title' || (tag === 'text' && !text.trim())) continue;
      const attrs = {};
      for (const a of child.attributes) if (a.name.indexOf(':') < 0) attrs[a.name] = a.value;
      parts.push([tag, attrs, text]);
    }
    found[g.id.replace(/^g_/, '')] = parts;
  }
  return found;
}"""
