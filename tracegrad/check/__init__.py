"""Checking gradients: gradcheck and gradgradcheck, anomaly mode, op verification, strategies.

Each checks the engine against an oracle that does not read the op table's partials (central
differences, the complex step) or stops at the first NaN. :mod:`tracegrad.testing` is the public
face of the hypothesis strategies and ``verify_op``.
"""

from .anomaly import AnomalyError, detect_anomaly
from .gradcheck import ComplexStepError, GradcheckError, GradcheckReport, gradcheck, gradcheck_report, gradgradcheck

__all__ = [
    "AnomalyError", "ComplexStepError", "GradcheckError", "GradcheckReport", "detect_anomaly", "gradcheck",
    "gradcheck_report", "gradgradcheck",
]
