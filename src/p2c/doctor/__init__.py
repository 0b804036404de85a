"""Prerequisite checks against the live environments (`p2c doctor`): what is missing and how to fix it."""

from p2c.doctor.base import PROSPECT_TO_CASH_DOCS, Check, CheckDef, CheckStatus, DoctorContext, sample
from p2c.doctor.diagnose import CHECKS, DoctorReport, diagnose, register

__all__ = [
    "CHECKS",
    "PROSPECT_TO_CASH_DOCS",
    "Check",
    "CheckDef",
    "CheckStatus",
    "DoctorContext",
    "DoctorReport",
    "diagnose",
    "register",
    "sample",
]
