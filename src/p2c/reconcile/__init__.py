"""Drift reports (`p2c reconcile`): both systems compared per task by key and mapped content; and
`p2c adopt`, which links the pairs another integration already synchronised."""

from p2c.reconcile.adopt import AdoptReport, TaskAdoption, adopt
from p2c.reconcile.run import Drift, DriftRecord, FieldDiff, ReconcileReport, TaskDrift, reconcile

__all__ = [
    "AdoptReport",
    "Drift",
    "DriftRecord",
    "FieldDiff",
    "ReconcileReport",
    "TaskAdoption",
    "TaskDrift",
    "adopt",
    "reconcile",
]
