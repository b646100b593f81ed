"""The headline demo that `make demo` runs: one neuron's backprop printed node by node and its
gradients checked, micrograd's two-moons training with a progress bar, the same training
compiled, and the pictures (a step-through page and an MLP's graph)."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import compiled
import gradients
import moons
import neuron
import pictures

if __name__ == "__main__":
    from _common import parse_args

    parse_args(__doc__, out=False)
    neuron.main()
    print()
    gradients.main()
    print()
    moons.main()
    print()
    compiled.main()
    print()
    pictures.main()
