"""Provisioning (`p2c setup`): the custom columns, alternate keys and change tracking a project needs."""

from p2c.setup.columns import ATTRIBUTE_TYPES, UnsupportedColumn, attribute_body, label
from p2c.setup.plan import (
    ColumnNeed,
    FieldUse,
    KeyNeed,
    LookupNeed,
    Requirements,
    TrackingNeed,
    filter_fields,
    requirements,
)
from p2c.setup.provision import (
    SetupReport,
    SetupStep,
    StepAction,
    StepKind,
    describe_duplicates,
    duplicate_values,
    find_key,
    provision,
)

__all__ = [
    "ATTRIBUTE_TYPES",
    "ColumnNeed",
    "FieldUse",
    "KeyNeed",
    "LookupNeed",
    "Requirements",
    "SetupReport",
    "SetupStep",
    "StepAction",
    "StepKind",
    "TrackingNeed",
    "UnsupportedColumn",
    "attribute_body",
    "describe_duplicates",
    "duplicate_values",
    "filter_fields",
    "find_key",
    "label",
    "provision",
    "requirements",
]
