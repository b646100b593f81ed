"""The training page's network: each neuron a node, each weight an edge.

An edge's colour shows its weight's sign (blue positive, orange negative) and its width the
weight's size; for a model with two inputs each neuron shows a small picture of its output over
the input plane. Per snapshot the page gets every weight and gradient as text, and one image
holding every neuron's picture side by side.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..nn.record import Recording
from .png import data_uri, png
from .svgplot import NEGATIVE, POSITIVE, diverging_all, esc, hex_colour

SHORT = {"relu": "ReLU", "tanh": "tanh", "sigmoid": "σ", "linear": "lin", "leaky_relu": "leaky", "step": "step"}
"""An activation's name inside a neuron's box."""
TILE_EVERY = 2
"""A neuron's picture uses every second grid cell (a 28-cell grid makes 14×14 pictures)."""


class NetworkView:
    """Where each neuron and weight is drawn, and what each is called."""

    def __init__(self, recording: Recording, grid: int, heat: bool) -> None:
        shape = recording.model or {}
        self.rec = recording
        self.sizes: List[int] = [shape["inputs"]] + [layer["size"] for layer in shape["layers"]]
        self.activations = [layer["activation"] for layer in shape["layers"]]
        self.heat = heat
        self.grid = grid
        self.tile = len(range(0, grid, TILE_EVERY))
        self.neurons = sum(self.sizes[1:])
        tallest = max(self.sizes)
        self.step_y = 44.0 if tallest <= 12 else 38.0
        self.height = max(130.0, tallest * self.step_y + 30)
        self.width = 150.0 + 140.0 * (len(self.sizes) - 1) + 120
        self.node = 30.0 if heat else 20.0

    def _x(self, layer: int) -> float:
        return 150.0 + 140.0 * layer

    def _y(self, layer: int, k: int) -> float:
        n = self.sizes[layer]
        return self.height / 2 + (k - (n - 1) / 2) * self.step_y

    def unit_name(self, layer: int, k: int) -> str:
        """``input age``, ``neuron 3 of hidden layer 1``, ``the output``."""
        if layer == 0:
            return f"input {self.rec.input_names[k]}"
        last = layer == len(self.sizes) - 1
        if last:
            return "the output" if self.sizes[layer] == 1 else f"output {k + 1}"
        return f"neuron {k + 1} of hidden layer {layer}"

    def parameter_texts(self) -> List[str]:
        """For each parameter, in order, what it is: ``weight from input x0 to neuron 3 of hidden layer 1``."""
        texts: List[str] = []
        for layer in range(1, len(self.sizes)):
            for j in range(self.sizes[layer]):
                dst = self.unit_name(layer, j)
                for k in range(self.sizes[layer - 1]):
                    texts.append(f"weight from {self.unit_name(layer - 1, k)} to {dst}")
                texts.append(f"bias of {dst}")
        return [f"{t} ({name})" for t, name in zip(texts, self.rec.parameter_names)]

    def scale(self, snapshots: Sequence[Sequence[float]]) -> float:
        """The weight size drawn at full width: a high percentile over every snapshot."""
        sizes: List[float] = sorted(abs(float(x)) for params in snapshots for x in params if math.isfinite(x))
        return sizes[int(0.95 * (len(sizes) - 1))] if sizes and sizes[-1] > 0 else 1.0

    def svg(self) -> str:
        """The network's SVG: edges (with wider invisible twins to point at), then the nodes."""
        lines: List[str] = [f'<svg class="network" viewBox="0 0 {self.width:.0f} {self.height:.0f}" role="group" '
                            f'aria-label="The network: each neuron a node, each weight an edge">']
        index = 0
        edges: List[str] = []
        hits: List[str] = []
        units: List[str] = []
        half = self.node / 2
        for layer in range(1, len(self.sizes)):
            for j in range(self.sizes[layer]):
                x2, y2 = self._x(layer) - half, self._y(layer, j)
                for k in range(self.sizes[layer - 1]):
                    x1, y1 = self._x(layer - 1) + (half if layer > 1 else 8), self._y(layer - 1, k)
                    coords = f'x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"'
                    edges.append(f'<line class="w" data-k="{index}" {coords}/>')
                    hits.append(f'<line class="hit" data-k="{index}" {coords}/>')
                    index += 1
                units.append(self._unit(layer, j, index))
                index += 1
        lines += edges + hits
        for k in range(self.sizes[0]):
            x, y = self._x(0), self._y(0, k)
            lines.append(f'<circle class="input" cx="{x:.1f}" cy="{y:.1f}" r="8"/>'
                         f'<text class="unit-label" x="{x - 14:.1f}" y="{y + 4:.1f}" text-anchor="end">'
                         f'{esc(self.rec.input_names[k])}</text>')
        lines += units
        lines.append("</svg>")
        return "".join(lines)

    def _unit(self, layer: int, j: int, bias: int) -> str:
        x, y = self._x(layer), self._y(layer, j)
        half = self.node / 2
        number = sum(self.sizes[1:layer]) + j
        activation = self.activations[layer - 1]
        pattern = fill = text = label = ""
        if self.heat:  # the neuron's tile of the sprite, as the box's fill (a pattern clips it to the box)
            pattern = (f'<pattern id="heat-{number}" patternUnits="userSpaceOnUse" x="{x - half:.1f}" '
                       f'y="{y - half:.1f}" width="{self.node}" height="{self.node}">'
                       f'<image class="heat" x="{-number * self.node:.1f}" y="0" '
                       f'width="{self.neurons * self.node:.1f}" height="{self.node}" preserveAspectRatio="none"/>'
                       f'</pattern>')
            fill = f' fill="url(#heat-{number})"'
        else:
            text = (f'<text class="unit-kind" x="{x:.1f}" y="{y + 3:.1f}" text-anchor="middle">'
                    f'{esc(SHORT.get(activation, activation))}</text>')
        if layer == len(self.sizes) - 1:
            name = self.rec.output_name if self.sizes[layer] == 1 else self._output_name(j)
            label = f'<text class="unit-label" x="{x + half + 6:.1f}" y="{y + 4:.1f}">{esc(name)}</text>'
        box = f'x="{x - half:.1f}" y="{y - half:.1f}" width="{self.node}" height="{self.node}" rx="4"'
        return (f'{pattern}<g class="unit" data-k="{bias}" tabindex="0" role="button" '
                f'aria-label="{esc(self.unit_name(layer, j))} ({esc(activation)}): show its bias">'
                f'<rect class="unit-box" {box}{fill}/>{text}<rect class="unit-frame" {box}/></g>{label}')

    def _output_name(self, j: int) -> str:
        classes = sorted(set(self.rec.targets or []))
        if self.rec.task == "classification" and j in classes:
            return f"{self.rec.output_name}: {self.rec.class_name(j)}"
        return f"{self.rec.output_name} {j + 1}"

    def sprite(self, outputs: Optional[List[List[List[float]]]]) -> str:
        """Every neuron's output over the input plane, side by side in one image (a data URI)."""
        if outputs is None or not self.heat:
            return ""
        g, t = self.grid, self.tile
        cells = [(j * g + i) for j in range(0, g, TILE_EVERY) for i in range(0, g, TILE_EVERY)]
        tiles: List[List[Tuple[int, int, int]]] = []
        for layer in outputs:
            for column in layer:
                values = [column[c] for c in cells]
                finite = [abs(v) for v in values if math.isfinite(v)]
                top = max(finite, default=1.0) or 1.0
                tiles.append(diverging_all(values, top))
        pixels = [tile[r * t + c] for r in range(t) for tile in tiles for c in range(t)]
        return data_uri(png(t * len(tiles), t, pixels))

    def legend(self) -> str:
        """HTML under the network: what the colours and widths mean."""
        heat = (" Each neuron's square shows its output over the input plane (blue above 0, orange below)."
                if self.heat else "")
        return (f'<span class="key"><span class="bar" style="background:{hex_colour(POSITIVE)}"></span>positive weight'
                f'</span><span class="key"><span class="bar" style="background:{hex_colour(NEGATIVE)}"></span>'
                f'negative weight</span><span class="key">wider: larger</span>'
                f'<span class="hint">Point at a weight or a neuron (or click it) to see its value and its '
                f'gradient at this snapshot.{heat}</span>')


def network_data(view: NetworkView, snapshots: Sequence[Any]) -> Dict[str, Any]:
    """The JSON the page's script reads: names, the full-width size, and per snapshot nothing yet."""
    return {"names": view.parameter_texts(), "scale": view.scale([s.parameters for s in snapshots])}
