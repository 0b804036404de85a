"""Drift reports (`p2c reconcile`): both systems compared per task by key and mapped content."""

from p2c.reconcile.run import Drift, DriftRecord, FieldDiff, ReconcileReport, TaskDrift, reconcile

__all__ = [
    "Drift",
    "DriftRecord",
    "FieldDiff",
    "ReconcileReport",
    "TaskDrift",
    "reconcile",
]
