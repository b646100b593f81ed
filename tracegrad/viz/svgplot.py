"""Small pieces of SVG plots for pages: scales, round tick values, axes, contour lines, colours.

Every text that reaches the SVG is escaped here, so a name such as ``</script>`` stays text.

>>> s = Scale(0.0, 10.0, 0.0, 200.0)
>>> s(5.0)
100.0
>>> ticks(0.0, 1.0)
[0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
"""

from __future__ import annotations

import html
import math
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from . import labels

POSITIVE = (8, 119, 189)
"""Blue: positive weights, the positive class, values above zero."""
NEGATIVE = (245, 147, 34)
"""Orange: negative weights, the negative class, values below zero."""
CLASS_COLOURS = [(245, 147, 34), (8, 119, 189), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
                 (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]
"""One colour per class, in the order of the sorted targets (two classes: orange, then blue)."""


def hex_colour(rgb: Sequence[int]) -> str:
    """``#rrggbb`` for an RGB triple."""
    return "#{:02x}{:02x}{:02x}".format(*rgb[:3])


def esc(text: object) -> str:
    """Text made safe inside SVG/HTML elements and quoted attributes."""
    return html.escape(str(text), quote=True)


class Scale:
    """Maps data values in ``[lo, hi]`` to pixels in ``[start, end]`` (linear, or log10 with ``log=True``)."""

    def __init__(self, lo: float, hi: float, start: float, end: float, log: bool = False) -> None:
        self.log = log
        self.lo, self.hi = (math.log10(lo), math.log10(hi)) if log else (lo, hi)
        if self.hi == self.lo:
            self.lo, self.hi = self.lo - 1.0, self.hi + 1.0
        self.lo_value, self.hi_value = lo, hi
        self.start, self.end = start, end

    def __call__(self, x: float) -> float:
        if self.log:
            x = math.log10(x) if x > 0 else self.lo - 10 * (self.hi - self.lo)
        return self.start + (x - self.lo) / (self.hi - self.lo) * (self.end - self.start)

    def clamped(self, x: float, margin: float = 2000.0) -> float:
        """The pixel of ``x``, kept within ``margin`` pixels of the range (SVG dislikes huge numbers)."""
        if not math.isfinite(x):
            x = self.hi_value if x > 0 else self.lo_value
        lo, hi = min(self.start, self.end) - margin, max(self.start, self.end) + margin
        return min(hi, max(lo, self(x)))

    def ticks(self) -> List[float]:
        """Round values across the range to label the axis with."""
        if self.log:
            return [10.0 ** k for k in range(math.floor(self.lo), math.ceil(self.hi) + 1)
                    if self.lo - 1e-9 <= k <= self.hi + 1e-9]
        return ticks(self.lo, self.hi)


def ticks(lo: float, hi: float, count: int = 5) -> List[float]:
    """About ``count`` round numbers (1, 2 or 5 times a power of ten apart) between ``lo`` and ``hi``."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / count
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9)
    return [k * step for k in range(first, math.floor(hi / step + 1e-9) + 1)]


def padded(values: Sequence[float], fraction: float = 0.08) -> Tuple[float, float]:
    """The range of ``values`` widened by ``fraction`` on each side (a point's width if they are equal)."""
    finite = [v for v in values if math.isfinite(v)]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    pad = (hi - lo) * fraction or max(abs(lo) * fraction, 0.5)
    return lo - pad, hi + pad


def tick_text(x: float) -> str:
    """A tick label: ``0.5``, ``-2``, ``3000``, ``1e+06``."""
    if x == int(x) and abs(x) < 1e6:
        return str(int(x))
    return labels.number(round(x, 12), 3)


def axes(x: Scale, y: Scale, box: Tuple[float, float, float, float], x_title: str, y_title: str,
         y_text: Callable[[float], str] = tick_text) -> str:
    """A frame, tick marks with their values and the two axis titles, as SVG."""
    left, top, right, bottom = box
    out = [f'<rect class="frame" x="{left}" y="{top}" width="{right - left}" height="{bottom - top}"/>']
    for t in x.ticks():
        px = x(t)
        out.append(f'<line class="tick" x1="{px:.1f}" y1="{bottom}" x2="{px:.1f}" y2="{bottom + 4}"/>'
                   f'<text class="tick-label" x="{px:.1f}" y="{bottom + 15}" text-anchor="middle">'
                   f'{esc(tick_text(t))}</text>')
    for t in y.ticks():
        py = y(t)
        out.append(f'<line class="tick" x1="{left - 4}" y1="{py:.1f}" x2="{left}" y2="{py:.1f}"/>'
                   f'<text class="tick-label" x="{left - 6}" y="{py + 3.5:.1f}" text-anchor="end">'
                   f'{esc(y_text(t))}</text>')
    out.append(f'<text class="axis-title" x="{(left + right) / 2:.1f}" y="{bottom + 31}" text-anchor="middle">'
               f'{esc(x_title)}</text>')
    middle = (top + bottom) / 2
    out.append(f'<text class="axis-title" transform="translate({left - 46},{middle:.1f}) rotate(-90)" '
               f'text-anchor="middle">{esc(y_title)}</text>')
    return "".join(out)


def contour(grid: Sequence[Sequence[float]], xs: Sequence[float], ys: Sequence[float]) -> str:
    """The zero level line of ``grid[j][i]`` (at pixel ``xs[i]``, ``ys[j]``) as an SVG path, by
    marching squares with linear interpolation along the cells' edges."""
    parts: List[str] = []

    def cross(a: float, b: float, pa: float, pb: float) -> float:
        return pa + (pb - pa) * (a / (a - b))

    for j in range(len(ys) - 1):
        for i in range(len(xs) - 1):
            corners = (grid[j][i], grid[j][i + 1], grid[j + 1][i + 1], grid[j + 1][i])
            if not all(math.isfinite(c) for c in corners):
                continue
            x0, x1, y0, y1 = xs[i], xs[i + 1], ys[j], ys[j + 1]
            a, b, c, d = corners
            points: List[Tuple[float, float]] = []
            if (a > 0) != (b > 0):
                points.append((cross(a, b, x0, x1), y0))
            if (b > 0) != (c > 0):
                points.append((x1, cross(b, c, y0, y1)))
            if (c > 0) != (d > 0):
                points.append((cross(d, c, x0, x1), y1))
            if (d > 0) != (a > 0):
                points.append((x0, cross(a, d, y0, y1)))
            for k in range(0, len(points) - 1, 2):
                (p, q), (r, s) = points[k], points[k + 1]
                parts.append(f"M{p:.1f} {q:.1f}L{r:.1f} {s:.1f}")
    return "".join(parts)


def polyline(points: Sequence[Tuple[float, float]]) -> str:
    """An SVG path through the points, broken where a point is missing (None or not finite)."""
    out: List[str] = []
    pen = "M"
    for x, y in points:
        if x is None or y is None or not (math.isfinite(x) and math.isfinite(y)):
            pen = "M"
            continue
        out.append(f"{pen}{x:.1f} {y:.1f}")
        pen = "L"
    return "".join(out)


LEVELS = 16
"""Shades on each side of a diverging colour scale (few shades: small images)."""


def _shade(rgb: Sequence[int], t: float) -> Tuple[int, int, int]:
    return (round(255 + (rgb[0] - 255) * t), round(255 + (rgb[1] - 255) * t), round(255 + (rgb[2] - 255) * t))


_RAMP = [_shade(NEGATIVE, k / LEVELS) for k in range(LEVELS, 0, -1)] + [_shade(POSITIVE, k / LEVELS)
                                                                       for k in range(0, LEVELS + 1)]


def diverging(value: float, scale: float) -> Tuple[int, int, int]:
    """Orange for negative, white at 0, blue for positive, stronger up to ``|value| = scale``
    (in :data:`LEVELS` shades each side)."""
    if not math.isfinite(value):
        return (200, 200, 200)
    t = abs(value) * (LEVELS / scale) if scale > 0 else 0.0
    k = LEVELS if t >= LEVELS else round(t)
    return _RAMP[LEVELS + k] if value > 0 else _RAMP[LEVELS - k]


def diverging_all(values: Sequence[float], scale: float) -> List[Tuple[int, int, int]]:
    """:func:`diverging` of many values (faster than one at a time)."""
    if scale <= 0 or not math.isfinite(scale):
        return [diverging(v, scale) for v in values]
    ramp, levels, grey = _RAMP, LEVELS, (200, 200, 200)
    factor = levels / scale
    try:  # every value finite: one pass
        return [ramp[levels + max(-levels, min(levels, round(v * factor)))] for v in values]
    except (ValueError, OverflowError):  # round() of nan or inf
        pass
    return [grey if v != v else diverging(v, scale) for v in values]


def class_colour(index: int) -> Tuple[int, int, int]:
    """The colour of the class at ``index`` among the sorted targets."""
    return CLASS_COLOURS[index % len(CLASS_COLOURS)]


def number_text(x: Optional[float]) -> str:
    """A number as a page shows it (4 significant digits), or an em dash for none."""
    return "—" if x is None else labels.number(x, 4)


def joined(values: Sequence[float]) -> str:
    """Numbers as page text, joined by spaces (one string is lighter in JSON than a list)."""
    return " ".join(labels.number(v, 4) for v in values)


def attrs(items: Dict[str, object]) -> str:
    """``a="1" b="x"`` with every value escaped."""
    return " ".join(f'{k}="{esc(v)}"' for k, v in items.items())
