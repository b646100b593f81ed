"""The exceptions tracegrad raises: each names the operation and the offending value."""

from __future__ import annotations


class TracegradError(Exception):
    """Base class of every error tracegrad raises on purpose."""


class DomainError(TracegradError, ValueError):
    """An op was given inputs outside its domain (``log: input must be > 0, got -2.0``)."""


class DerivativeError(DomainError):
    """A local derivative is undefined where backward needs it (``sqrt`` at 0)."""
