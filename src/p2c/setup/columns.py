"""``AttributeMetadata`` bodies for p2c's custom CRM columns, built from their catalog definition.

The shapes follow the Web API's ``POST EntityDefinitions(LogicalName='x')/Attributes``
(DATAVERSE.md §2.13): ``@odata.type`` names the metadata class, labels are ``Label`` objects.

Example::

    >>> from p2c.catalog import FieldSpec, FieldType
    >>> body = attribute_body(FieldSpec("p2c_code", FieldType.STRING, max_length=20, schema_name="p2c_Code"))
    >>> body["@odata.type"], body["SchemaName"], body["MaxLength"]
    ('Microsoft.Dynamics.CRM.StringAttributeMetadata', 'p2c_Code', 20)
"""

from __future__ import annotations

from typing import Any

from p2c.catalog import FieldSpec, FieldType

__all__ = [
    "ATTRIBUTE_TYPES",
    "SOLUTION_FIX",
    "UnsupportedColumn",
    "attribute_body",
    "label",
    "missing_solution_column",
]

#: catalog type → (metadata class, the ``AttributeType`` the service reports for it)
ATTRIBUTE_TYPES: dict[FieldType, tuple[str, str]] = {
    FieldType.STRING: ("StringAttributeMetadata", "String"),
    FieldType.INT: ("IntegerAttributeMetadata", "Integer"),
    FieldType.DECIMAL: ("DecimalAttributeMetadata", "Decimal"),
    FieldType.MONEY: ("MoneyAttributeMetadata", "Money"),
    FieldType.BOOL: ("BooleanAttributeMetadata", "Boolean"),
    FieldType.DATETIME: ("DateTimeAttributeMetadata", "DateTime"),
    FieldType.DATE: ("DateTimeAttributeMetadata", "DateTime"),
    FieldType.CHOICE: ("PicklistAttributeMetadata", "Picklist"),
}
#: types the service may report for a column p2c would create as the key type
COMPATIBLE: dict[str, frozenset[str]] = {"String": frozenset({"String", "Memo"})}


#: what to do about a missing column of Microsoft's P2C solution (``crm_schema: microsoft``)
SOLUTION_FIX = (
    "the project's crm_schema is microsoft, so p2c uses the columns of Microsoft's P2C solution and "
    "does not create them; install Microsoft's Prospect to cash solution in this environment, or set "
    "`crm_schema: p2c` in p2c.yaml to use (and provision) p2c's own columns"
)


def missing_solution_column(table: str, names: list[str]) -> str:
    """Why columns of Microsoft's P2C solution are missing, and the two ways out (``crm_schema``).

    >>> missing_solution_column("contact", ["msdynce_contactnumber"])[:50]
    "contact has no msdynce_contactnumber: the project's"
    """
    return f"{table} has no {', '.join(names)}: {SOLUTION_FIX}"


class UnsupportedColumn(ValueError):
    """The catalog asks for a column type the Attributes API cannot create (lookups need a relationship)."""


def label(text: str) -> dict[str, Any]:
    return {
        "@odata.type": "Microsoft.Dynamics.CRM.Label",
        "LocalizedLabels": [
            {"@odata.type": "Microsoft.Dynamics.CRM.LocalizedLabel", "Label": text, "LanguageCode": 1033}
        ],
    }


def attribute_body(spec: FieldSpec) -> dict[str, Any]:
    """The ``AttributeMetadata`` to POST for ``spec``; :class:`UnsupportedColumn` for lookups and the like."""
    kind = ATTRIBUTE_TYPES.get(spec.type)
    if kind is None:
        raise UnsupportedColumn(
            f"a {spec.type.value} column cannot be created through the Attributes API"
            " (lookups need a relationship): create it in the maker portal"
        )
    cls, attribute_type = kind
    body: dict[str, Any] = {
        "@odata.type": f"Microsoft.Dynamics.CRM.{cls}",
        "SchemaName": spec.schema_name or spec.name,
        "AttributeType": attribute_type,
        "AttributeTypeName": {"Value": f"{attribute_type}Type"},
        "DisplayName": label(spec.label or spec.name),
        "Description": label(spec.description or spec.label or spec.name),
        "RequiredLevel": {
            "Value": "None",
            "CanBeChanged": True,
            "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings",
        },
    }
    if spec.type is FieldType.STRING:
        body.update(MaxLength=spec.max_length or 100, FormatName={"Value": "Text"})
    elif spec.type is FieldType.INT:
        body.update(Format="None")
        if spec.min is not None:
            body["MinValue"] = spec.min
        if spec.max is not None:
            body["MaxValue"] = spec.max
    elif spec.type in (FieldType.DECIMAL, FieldType.MONEY):
        body["Precision"] = spec.precision if spec.precision is not None else 2
    elif spec.type is FieldType.BOOL:
        body["DefaultValue"] = bool(spec.default)
        body["OptionSet"] = {
            "OptionSetType": "Boolean",
            "TrueOption": {"Value": 1, "Label": label("Yes")},
            "FalseOption": {"Value": 0, "Label": label("No")},
        }
    elif spec.type in (FieldType.DATETIME, FieldType.DATE):
        date_only = spec.type is FieldType.DATE
        body["Format"] = "DateOnly" if date_only else "DateAndTime"
        body["DateTimeBehavior"] = {"Value": "DateOnly" if date_only else "UserLocal"}
    else:  # choice
        body["OptionSet"] = {
            "@odata.type": "Microsoft.Dynamics.CRM.OptionSetMetadata",
            "IsGlobal": False,
            "OptionSetType": "Picklist",
            "Options": [{"Value": value, "Label": label(text)} for value, text in spec.options.items()],
        }
        # the value a new row starts with (p2c_processingstatus: Draft, so a new order can be activated)
        body["DefaultFormValue"] = spec.default if spec.default is not None else -1
    return body
