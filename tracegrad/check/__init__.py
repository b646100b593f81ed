"""Checking gradients: gradcheck and gradgradcheck (aware of kinks), gradcheck_model, anomaly
mode, op verification, strategies, and check_engine for a learner's own engine.

Each checks the engine against an oracle that does not read the op table's partials (central
differences, the complex step) or stops at the first NaN. :mod:`tracegrad.testing` is the public
face of the hypothesis strategies and ``verify_op``.
"""

from .anomaly import AnomalyError, detect_anomaly
from .gradcheck import ComplexStepError, GradcheckError, GradcheckReport, gradcheck, gradcheck_report, gradgradcheck
from .model import gradcheck_model, gradcheck_model_report

__all__ = [
    "AnomalyError", "ComplexStepError", "GradcheckError", "GradcheckReport", "detect_anomaly", "gradcheck",
    "gradcheck_model", "gradcheck_model_report", "gradcheck_report", "gradgradcheck",
]
