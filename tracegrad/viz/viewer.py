"""A picture that pans and zooms: the script both pages use, and the page that shows a drawing.

The stage is a window onto the picture: drag to pan; the wheel, the "Zoom in" / "Zoom out"
buttons (and the + and - keys) zoom; "Fit" shows the whole picture. The picture opens at the
larger of "fit" and the zoom at which its smallest text is :data:`READABLE_PX` CSS pixels tall,
so text is never smaller than that at first; a large picture is then panned to what matters (the
step-through follows the current step at that zoom: when a step's two nodes are further apart than
the stage, the view travels along the edge between them, from the node passing its gradient back
to the input receiving it, unless the reader asks for reduced motion). ``draw(...)`` in a notebook
shows :func:`viewer_page`.
"""

from __future__ import annotations

import html
import re
from typing import Tuple

READABLE_PX = 12
"""The smallest text, in CSS pixels, that a page opens with."""

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
"""Every page's Content-Security-Policy: its own inline style and script, no request of any kind."""

ZOOM_BUTTONS = (
    '<span class="zoom" role="group" aria-label="Zoom">'
    '<button id="zoom-out" type="button" aria-label="Zoom out">−</button>'
    '<button id="zoom-in" type="button" aria-label="Zoom in">+</button>'
    '<button id="fit" type="button">Fit</button></span>'
)

VIEWER_CSS = """
.stage {
  position: relative;
  overflow: hidden;
  background: #fff;
  border: 1px solid #ddd;
  border-radius: 8px;
  cursor: grab;
  touch-action: none;
  user-select: none;
}
.stage.dragging { cursor: grabbing; }
.stage > svg { position: absolute; left: 0; top: 0; transform-origin: 0 0; max-width: none; }
.zoom { display: inline-flex; gap: 4px; }
"""

VIEWER_JS = r"""
function makeViewer(stage, readablePx, smallestHint) {
  "use strict";
  var svg = stage.querySelector("svg");
  var view = { s: 1, x: 0, y: 0 };
  if (!svg) { return { follow: function () {}, fit: function () {}, zoom: function () {}, view: view }; }
  var box = svg.viewBox.baseVal;
  var width = box.width * 4 / 3, height = box.height * 4 / 3;  // the picture's units are points
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  var smallest = smallestHint || Infinity;  // later frames may hold smaller text than the first
  var texts = svg.querySelectorAll("text");
  for (var i = 0; i < texts.length; i++) {
    var size = parseFloat(texts[i].getAttribute("font-size"));
    if (size > 0 && size < smallest) { smallest = size; }
  }
  var readable = isFinite(smallest) ? 1.005 * readablePx / (smallest * 4 / 3) : 1;  // a hair over: rounding

  function apply() {
    svg.style.transform = "translate(" + view.x + "px," + view.y + "px) scale(" + view.s + ")";
    stage.setAttribute("data-scale", String(view.s));
  }
  function fitScale() {
    return Math.min(stage.clientWidth / width, stage.clientHeight / height) || 1;
  }
  function center() {
    view.x = (stage.clientWidth - width * view.s) / 2;
    view.y = (stage.clientHeight - height * view.s) / 2;
  }
  var auto = true;    // until the learner zooms, the page picks the zoom
  var startScale = 1;
  var opening = null; // how the page chose its first view, redone while the stage changes size
  function fit() { still(); opening = fit; view.s = Math.min(fitScale(), 2); center(); apply(); }
  function start() {
    opening = start;
    view.s = startScale = Math.min(Math.max(fitScale(), readable), 1.5);
    auto = true; center(); apply();
  }
  function zoom(factor, px, py) {
    still();
    if (px === undefined) { px = stage.clientWidth / 2; py = stage.clientHeight / 2; }
    var s = Math.max(0.05, Math.min(8, view.s * factor));
    view.x = px - (px - view.x) * s / view.s;
    view.y = py - (py - view.y) * s / view.s;
    view.s = s;
    auto = false;
    apply();
  }
  // keep the elements in view at the zoom the page opened with (or the learner chose): pan when
  // one is outside; when they are further apart than the stage, travel along the paths that join
  // them (the edges a gradient flows back along), from the first element to the last
  var following = [], along = null, motion = null;
  function still() {
    if (motion !== null) { cancelAnimationFrame(motion); motion = null; }
    stage.removeAttribute("data-moving");
  }
  function place(elements) {  // the elements' box in the picture's own pixels
    var at = svg.getBoundingClientRect(), b = null;
    elements.forEach(function (el) {
      var r = el.getBoundingClientRect();
      var p = { l: (r.left - at.left) / view.s, r: (r.right - at.left) / view.s,
                t: (r.top - at.top) / view.s, b: (r.bottom - at.top) / view.s };
      b = b === null ? p
        : { l: Math.min(b.l, p.l), r: Math.max(b.r, p.r), t: Math.min(b.t, p.t), b: Math.max(b.b, p.b) };
    });
    return b;
  }
  function point(path, length) {  // a point of the path in the picture's own pixels
    var p = path.getPointAtLength(length), m = path.getScreenCTM(), at = svg.getBoundingClientRect();
    return { x: (m.a * p.x + m.c * p.y + m.e - at.left) / view.s, y: (m.b * p.x + m.d * p.y + m.f - at.top) / view.s };
  }
  function fits(b, margin) {
    return (b.r - b.l) * view.s <= stage.clientWidth - 2 * margin
      && (b.b - b.t) * view.s <= stage.clientHeight - 2 * margin;
  }
  function centreOn(x, y) {
    view.x = stage.clientWidth / 2 - x * view.s;
    view.y = stage.clientHeight / 2 - y * view.s;
  }
  function follow(elements, paths) {
    still();
    following = elements;
    along = paths && paths.length ? paths : null;
    if (!elements.length || !stage.clientWidth || !stage.clientHeight) { return; }
    var margin = 24, w = stage.clientWidth, h = stage.clientHeight;
    var b = place(elements);
    if (!(b.r > b.l) || !(b.b > b.t)) { return; }  // not laid out yet
    if (auto && view.s !== startScale) {
      view.s = startScale;
      centreOn((b.l + b.r) / 2, (b.t + b.b) / 2);
      b = place(elements);
    }
    if (fits(b, margin) || !along || elements.length < 2) {
      if (auto && !fits(b, margin)) {  // no path to travel: show them all, smaller
        view.s = Math.min((w - 2 * margin) / (b.r - b.l), (h - 2 * margin) / (b.b - b.t)) * view.s;
        b = place(elements);
      }
      var left = view.x + b.l * view.s, right = view.x + b.r * view.s;
      var top = view.y + b.t * view.s, bottom = view.y + b.b * view.s;
      if (left < margin || right > w - margin) { view.x += w / 2 - (left + right) / 2; }
      if (top < margin || bottom > h - margin) { view.y += h / 2 - (top + bottom) / 2; }
      apply();
      return;
    }
    travel(elements[0], elements[elements.length - 1], along);
  }
  function travel(from, to, paths) {
    // each path is travelled from its end to its start, the way a gradient flows back
    var points = [];
    paths.forEach(function (path) {
      var length = path.getTotalLength(), n = Math.max(2, Math.ceil(length * view.s / 40));
      for (var k = 0; k <= n; k++) { points.push(point(path, length * (1 - k / n))); }
    });
    var head = points[0], tail = points[points.length - 1], last = points.length - 1;
    function middle(b, p) {  // of a box and a point
      return { x: (Math.min(b.l, p.x) + Math.max(b.r, p.x)) / 2, y: (Math.min(b.t, p.y) + Math.max(b.b, p.y)) / 2 };
    }
    var start = middle(place([from]), head), end = middle(place([to]), tail);
    function at(u) {  // along the paths, drifting from the start's offset to the end's
      var i = Math.min(last - 1, Math.floor(u * last)), f = u * last - i, p = points[i], q = points[i + 1];
      return { x: p.x + (q.x - p.x) * f + (start.x - head.x) * (1 - u) + (end.x - tail.x) * u,
               y: p.y + (q.y - p.y) * f + (start.y - head.y) * (1 - u) + (end.y - tail.y) * u };
    }
    centreOn(start.x, start.y);
    apply();
    var calm = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    var took = Math.min(700, 250 + Math.hypot(end.x - start.x, end.y - start.y) * view.s * 0.4);
    if (calm) { centreOn(end.x, end.y); apply(); return; }
    stage.setAttribute("data-moving", "1");
    var begun = null;
    function frame(now) {
      if (begun === null) { begun = now; }
      var t = Math.min(1, (now - begun) / took), u = t < 0.5 ? 2 * t * t : 1 - 2 * (1 - t) * (1 - t);
      var c = at(u);
      centreOn(c.x, c.y);
      apply();
      if (t < 1) { motion = requestAnimationFrame(frame); } else { still(); }
    }
    motion = requestAnimationFrame(frame);
  }

  var drag = null;
  stage.addEventListener("pointerdown", function (event) {
    if (event.button !== 0) { return; }
    still();
    drag = { x: event.clientX, y: event.clientY, vx: view.x, vy: view.y, moved: false, id: event.pointerId };
  });
  stage.addEventListener("pointermove", function (event) {
    if (drag === null) { return; }
    var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) { return; }
    if (!drag.moved) { stage.setPointerCapture(drag.id); stage.classList.add("dragging"); }
    drag.moved = true;
    view.x = drag.vx + dx;
    view.y = drag.vy + dy;
    apply();
  });
  function end() {
    if (drag !== null && drag.moved) { stage.setAttribute("data-dragged", "1"); }
    drag = null;
    stage.classList.remove("dragging");
  }
  stage.addEventListener("pointerup", end);
  stage.addEventListener("pointercancel", end);
  stage.addEventListener("click", function (event) {  // a drag is not a click on a node
    if (stage.getAttribute("data-dragged")) { event.stopPropagation(); stage.removeAttribute("data-dragged"); }
  }, true);
  stage.addEventListener("wheel", function (event) {
    event.preventDefault();
    var r = stage.getBoundingClientRect();
    zoom(Math.exp(-event.deltaY * 0.0015), event.clientX - r.left, event.clientY - r.top);
  }, { passive: false });
  var zin = document.getElementById("zoom-in"), zout = document.getElementById("zoom-out");
  var fitButton = document.getElementById("fit");
  if (zin) { zin.addEventListener("click", function () { zoom(1.25); }); }
  if (zout) { zout.addEventListener("click", function () { zoom(0.8); }); }
  if (fitButton) { fitButton.addEventListener("click", function () { auto = false; fit(); }); }
  document.addEventListener("keydown", function (event) {
    if (event.target && event.target.tagName === "INPUT" && event.target.type === "text") { return; }
    if (event.key === "+" || event.key === "=") { zoom(1.25); }
    else if (event.key === "-" || event.key === "_") { zoom(0.8); }
    else if (event.key === "0") { auto = false; fit(); }
  });
  start();
  // a page in a notebook's frame may run before the frame is laid out (its stage 0 px wide), or
  // see its column resized: until the learner zooms, choose the view again for the new size
  function resized() {
    if (auto && stage.clientWidth && stage.clientHeight) { opening(); follow(following, along); }
  }
  if (window.ResizeObserver) { new ResizeObserver(resized).observe(stage); }
  window.addEventListener("resize", resized);
  stage.setAttribute("data-readable-scale", String(readable));
  return { follow: follow, fit: fit, zoom: zoom, start: start, view: view, readable: readable };
}
"""

_PROLOG = re.compile(r"^.*?(?=<svg\b)", re.DOTALL)


def inline_svg(svg: str) -> str:
    """An SVG document without its XML prolog, doctype and comments, ready to sit inside HTML."""
    body = _PROLOG.sub("", svg, count=1)
    return re.sub(r"<!--.*?-->", "", body, flags=re.DOTALL).strip()


_SIZE = re.compile(r'<svg[^>]*?\bviewBox="[-\d.]+ [-\d.]+ ([\d.]+) ([\d.]+)"')


def svg_size(svg: str) -> Tuple[float, float]:
    """The picture's natural width and height in CSS pixels (its viewBox is in points)."""
    match = _SIZE.search(svg)
    if match is None:
        return 600.0, 400.0
    return float(match.group(1)) * 4 / 3, float(match.group(2)) * 4 / 3


def page_head(title: str, css: str) -> str:
    """The start of every page tracegrad writes, up to ``<body>``: its policy lets the page run
    only its own inline script and style and fetch nothing, so it works offline and in a sandbox."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{css}</style>
</head>
"""


def viewer_page(svg: str, title: str) -> Tuple[str, int]:
    """A drawing as a page of its own that pans and zooms, and the height to show it at.

    ``svg`` is an inline SVG element (Graphviz escapes every label). The page opens fitted to
    its width, so a picture wider than a notebook's column is scaled down, never cut off.
    """
    width, height = svg_size(svg)
    shown = height * min(1.0, 860.0 / width) if width else height  # a notebook column is about 860 px
    stage = int(min(max(shown + 16, 120), 560))
    css = f"""
body {{ margin: 0; font: 14px system-ui, sans-serif; }}
nav {{ display: flex; gap: 6px; justify-content: flex-end; padding: 2px 4px; }}
nav button {{ font: inherit; padding: 1px 10px; border: 1px solid #bbb; border-radius: 5px; background: #fff; }}
#stage {{ height: {stage}px; }}
{VIEWER_CSS}
"""
    page = page_head(title, css) + f"""<body>
<nav aria-label="picture">{ZOOM_BUTTONS}</nav>
<main id="stage" class="stage">{svg}</main>
<script>{VIEWER_JS}
var viewer = makeViewer(document.getElementById("stage"), 0);
viewer.fit();
</script>
</body></html>
"""
    return page, stage + 40
