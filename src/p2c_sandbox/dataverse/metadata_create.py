"""Creating a custom column from an ``AttributeMetadata`` body (``POST .../Attributes``).

Supported ``@odata.type`` values: ``String``, ``Memo``, ``Integer``, ``Decimal``, ``Money``,
``Boolean``, ``DateTime`` and ``Picklist`` ``AttributeMetadata`` (local option sets). Lookup
columns need a relationship (``RelationshipDefinitions``), which the sandbox does not offer. The
``SchemaName`` must carry a publisher prefix (``p2c_ContactNumber``); the logical name is its
lower-case form.

Defaults: a ``Boolean`` column's ``DefaultValue`` and a ``Picklist`` column's ``DefaultFormValue``
(one of its options; ``-1`` or null: none) are kept with the column, and a row created without the
column gets that value, as the service does (rows that existed before keep an empty value).

Example::

    >>> from p2c_sandbox.dataverse.tables import TABLES
    >>> col = column_from_metadata({"@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata",
    ...                             "SchemaName": "p2c_ContactNumber", "MaxLength": 40}, TABLES["contact"])
    >>> col.name, col.max_length, col.custom
    ('p2c_contactnumber', 40, True)
"""

from __future__ import annotations

import re
from typing import Any

from p2c_sandbox.dataverse.errors import Code, DataverseError
from p2c_sandbox.dataverse.schema import Column, Kind, Required, TableDef

__all__ = ["check_schema_name", "column_from_metadata", "label_text"]

_PREFIXED = re.compile(r"[A-Za-z][A-Za-z0-9]{1,7}_[A-Za-z0-9_]+")
_KINDS = {
    "StringAttributeMetadata": Kind.STRING,
    "MemoAttributeMetadata": Kind.MEMO,
    "IntegerAttributeMetadata": Kind.INTEGER,
    "DecimalAttributeMetadata": Kind.DECIMAL,
    "MoneyAttributeMetadata": Kind.MONEY,
    "BooleanAttributeMetadata": Kind.BOOLEAN,
    "DateTimeAttributeMetadata": Kind.DATETIME,
    "PicklistAttributeMetadata": Kind.PICKLIST,
}
_FIRST_OPTION = 100000000


def _error(message: str) -> DataverseError:
    return DataverseError(400, Code.METADATA, message)


def label_text(value: Any) -> str:
    """The text of a ``Label`` object (first localized label), or ``""``."""
    if isinstance(value, dict):
        labels = value.get("LocalizedLabels")
        if isinstance(labels, list) and labels and isinstance(labels[0], dict):
            return str(labels[0].get("Label") or "")
        user = value.get("UserLocalizedLabel")
        if isinstance(user, dict):
            return str(user.get("Label") or "")
    return ""


def check_schema_name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise _error(f"The {what} needs a SchemaName.")
    if not _PREFIXED.fullmatch(value) or value.lower().startswith(("msdyn_", "mscrm")):
        raise _error(
            f"The SchemaName '{value}' of a custom {what} must start with a publisher customization prefix "
            "followed by an underscore, such as 'p2c_'."
        )
    return value


def _int(body: dict[str, Any], name: str, default: int | None, lo: int, hi: int) -> int | None:
    value = body.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _error(f"{name} must be a whole number between {lo} and {hi}.")
    return value


def _options(body: dict[str, Any]) -> dict[int, str]:
    option_set = body.get("OptionSet")
    if body.get("GlobalOptionSet@odata.bind") is not None:
        raise _error("Global option sets are not supported by the sandbox: define the options in OptionSet.")
    if not isinstance(option_set, dict) or not isinstance(option_set.get("Options"), list):
        raise _error("A PicklistAttributeMetadata needs OptionSet.Options.")
    out: dict[int, str] = {}
    for i, option in enumerate(option_set["Options"]):
        if not isinstance(option, dict):
            raise _error("Each option must be an object with Value and Label.")
        value = option.get("Value")
        if value is None:
            value = _FIRST_OPTION + i
        if isinstance(value, bool) or not isinstance(value, int):
            raise _error("An option Value must be a whole number.")
        if value in out:
            raise _error(f"The option value {value} is used twice.")
        out[value] = label_text(option.get("Label")) or str(value)
    if not out:
        raise _error("A choice column needs at least one option.")
    return out


def column_from_metadata(body: Any, t: TableDef) -> Column:
    if not isinstance(body, dict):
        raise DataverseError(400, Code.PAYLOAD, "The body must be an AttributeMetadata object.")
    odata_type = str(body.get("@odata.type", "")).lstrip("#").removeprefix("Microsoft.Dynamics.CRM.")
    if odata_type in ("LookupAttributeMetadata", "CustomerAttributeMetadata"):
        raise _error(
            "Lookup columns are created with a relationship (RelationshipDefinitions), which the sandbox "
            "does not support."
        )
    kind = _KINDS.get(odata_type)
    if kind is None:
        raise _error(
            f"The attribute type '{body.get('@odata.type')}' is missing or not supported; use one of "
            f"{', '.join(sorted(_KINDS))}."
        )
    schema_name = check_schema_name(body.get("SchemaName"), "column")
    name = schema_name.lower()
    if body.get("LogicalName") not in (None, name):
        raise _error(f"LogicalName '{body.get('LogicalName')}' must be the lower-case SchemaName '{name}'.")
    if name in t.columns or f"_{name}_value" in t.by_wire:
        raise _error(f"An attribute with the name '{name}' already exists on entity '{t.name}'.")
    level = body.get("RequiredLevel")
    level_value = level.get("Value", "None") if isinstance(level, dict) else "None"
    if level_value not in ("None", "Recommended", "ApplicationRequired"):
        raise _error(f"RequiredLevel '{level_value}' is not valid for a custom column.")
    common: dict[str, Any] = {
        "required": Required(level_value),
        "label": label_text(body.get("DisplayName")),
        "custom": True,
    }
    if kind is Kind.STRING:
        return Column(name, kind, max_length=_int(body, "MaxLength", 100, 1, 4000), **common)
    if kind is Kind.MEMO:
        return Column(name, kind, max_length=_int(body, "MaxLength", 2000, 1, 1048576), **common)
    if kind is Kind.INTEGER:
        lo = _int(body, "MinValue", -2147483648, -2147483648, 2147483647)
        hi = _int(body, "MaxValue", 2147483647, -2147483648, 2147483647)
        return Column(name, kind, min_value=lo, max_value=hi, **common)
    if kind in (Kind.DECIMAL, Kind.MONEY):
        precision = _int(body, "Precision", 2, 0, 10 if kind is Kind.DECIMAL else 4) or 0
        lo_default, hi_default = (
            (-100000000000, 100000000000) if kind is Kind.DECIMAL else (-922337203685477, 922337203685477)
        )
        lo, hi = body.get("MinValue", lo_default), body.get("MaxValue", hi_default)
        return Column(name, kind, precision=precision, min_value=lo, max_value=hi, **common)
    if kind is Kind.BOOLEAN:
        option_set: dict[str, Any] = body["OptionSet"] if isinstance(body.get("OptionSet"), dict) else {}
        true_label = label_text((option_set.get("TrueOption") or {}).get("Label")) or "Yes"
        false_label = label_text((option_set.get("FalseOption") or {}).get("Label")) or "No"
        default = body.get("DefaultValue")
        if default is not None and not isinstance(default, bool):
            raise _error("DefaultValue of a BooleanAttributeMetadata must be true, false or null.")
        return Column(name, kind, options={0: false_label, 1: true_label}, default=default, **common)
    if kind is Kind.DATETIME:
        fmt = body.get("Format", "DateAndTime")
        behavior = body.get("DateTimeBehavior")
        date_only = fmt == "DateOnly" or (isinstance(behavior, dict) and behavior.get("Value") == "DateOnly")
        return Column(name, kind, date_only=date_only, **common)
    options = _options(body)
    return Column(name, kind, options=options, default=_form_default(body, options), **common)


def _form_default(body: dict[str, Any], options: dict[int, str]) -> int | None:
    """A choice column's default: ``DefaultFormValue`` (``-1``: none), one of its options."""
    value = body.get("DefaultFormValue")
    if value is None or value == -1:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value not in options:
        raise _error(f"DefaultFormValue {value!r} is not one of the column's option values.")
    return value
