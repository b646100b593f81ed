"""The headline demo that `make demo` runs."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import neuron

if __name__ == "__main__":
    neuron.main()
