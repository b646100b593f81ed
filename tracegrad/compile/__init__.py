"""The fast path: trace a fixed-shape computation once, replay it as straight-line float code.

:mod:`~tracegrad.compile.trace` records the computation and keeps one program per argument
shape; :mod:`~tracegrad.compile.codegen` writes a recorded graph out as Python source.
"""

from .trace import Compiled, compile

__all__ = ["Compiled", "compile"]
