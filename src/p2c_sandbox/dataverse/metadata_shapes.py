"""JSON shapes of ``EntityMetadata``, ``AttributeMetadata`` (and its derived types) and ``EntityKeyMetadata``.

Only the properties clients actually read are produced, with the real names and nesting
(``RequiredLevel.Value``, ``DisplayName.UserLocalizedLabel.Label``, ``OptionSet.Options[].Value``).

Example::

    >>> from p2c_sandbox.dataverse.tables import TABLES
    >>> entity_shape(TABLES["account"], False)["EntitySetName"]
    'accounts'
    >>> attribute_shape(TABLES["account"], TABLES["account"].columns["name"])["MaxLength"]
    160
"""

from __future__ import annotations

from typing import Any

from p2c_sandbox.dataverse.catalog import KeyDef, metadata_id
from p2c_sandbox.dataverse.schema import Column, Kind, Ownership, TableDef

__all__ = ["attribute_shape", "entity_shape", "key_shape", "label"]

SCHEMA_NAMES = {
    "account": "Account",
    "contact": "Contact",
    "product": "Product",
    "pricelevel": "PriceLevel",
    "productpricelevel": "ProductPriceLevel",
    "uom": "UoM",
    "uomschedule": "UoMSchedule",
    "transactioncurrency": "TransactionCurrency",
    "quote": "Quote",
    "quotedetail": "QuoteDetail",
    "salesorder": "SalesOrder",
    "salesorderdetail": "SalesOrderDetail",
    "invoice": "Invoice",
    "invoicedetail": "InvoiceDetail",
    "systemuser": "SystemUser",
    "businessunit": "BusinessUnit",
    "team": "Team",
    "organization": "Organization",
    "sdkmessage": "SdkMessage",
    "sdkmessagefilter": "SdkMessageFilter",
}
_TYPES = {
    Kind.UNIQUEIDENTIFIER: "AttributeMetadata",
    Kind.STRING: "StringAttributeMetadata",
    Kind.MEMO: "MemoAttributeMetadata",
    Kind.INTEGER: "IntegerAttributeMetadata",
    Kind.BIGINT: "BigIntAttributeMetadata",
    Kind.DECIMAL: "DecimalAttributeMetadata",
    Kind.MONEY: "MoneyAttributeMetadata",
    Kind.BOOLEAN: "BooleanAttributeMetadata",
    Kind.DATETIME: "DateTimeAttributeMetadata",
    Kind.PICKLIST: "PicklistAttributeMetadata",
    Kind.STATE: "StateAttributeMetadata",
    Kind.STATUS: "StatusAttributeMetadata",
    Kind.LOOKUP: "LookupAttributeMetadata",
    Kind.CUSTOMER: "LookupAttributeMetadata",
    Kind.OWNER: "LookupAttributeMetadata",
}


def label(text: str) -> dict[str, Any]:
    localized = {
        "Label": text,
        "LanguageCode": 1033,
        "IsManaged": True,
        "MetadataId": metadata_id("label", text),
        "HasChanged": None,
    }
    return {"LocalizedLabels": [localized], "UserLocalizedLabel": localized}


def _schema_name(name: str) -> str:
    return SCHEMA_NAMES.get(name, name[:1].upper() + name[1:])


def entity_shape(t: TableDef, tracking: bool) -> dict[str, Any]:
    schema = _schema_name(t.name)
    return {
        "MetadataId": metadata_id("entity", t.name),
        "LogicalName": t.name,
        "SchemaName": schema,
        "EntitySetName": t.set_name,
        "LogicalCollectionName": t.set_name,
        "CollectionSchemaName": schema
        + ("es" if schema.endswith("y") is False and schema.endswith("s") else "s"),
        "PrimaryIdAttribute": t.pk,
        "PrimaryNameAttribute": t.primary_name,
        "ObjectTypeCode": t.type_code,
        "OwnershipType": str(t.ownership) if t.ownership is not Ownership.BUSINESS else "BusinessOwned",
        "ChangeTrackingEnabled": tracking,
        "IsCustomEntity": False,
        "IsActivity": False,
        "IsValidForAdvancedFind": True,
        "IsManaged": True,
        "DisplayName": label(t.label),
        "DisplayCollectionName": label(t.label + "s"),
    }


def attribute_shape(t: TableDef, col: Column, with_options: bool = False) -> dict[str, Any]:
    type_name = _TYPES[col.kind]
    shape: dict[str, Any] = {
        "@odata.type": f"#Microsoft.Dynamics.CRM.{type_name}",
        "MetadataId": metadata_id("attribute", t.name, col.name),
        "LogicalName": col.name,
        "SchemaName": col.name if col.custom else col.name[:1].upper() + col.name[1:],
        "EntityLogicalName": t.name,
        "AttributeType": str(col.kind),
        "AttributeTypeName": {"Value": f"{col.kind}Type"},
        "AttributeOf": col.name[:-5] if col.name.endswith("_base") else None,
        "IsCustomAttribute": col.custom,
        "IsPrimaryId": col.name == t.pk,
        "IsPrimaryName": col.name == t.primary_name,
        "IsValidForCreate": col.create,
        "IsValidForUpdate": col.update,
        "IsValidForRead": True,
        "RequiredLevel": {
            "Value": str(col.required),
            "CanBeChanged": True,
            "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings",
        },
        "DisplayName": label(col.display),
    }
    kind = col.kind
    if kind in (Kind.STRING, Kind.MEMO):
        shape["MaxLength"] = col.max_length
        shape["DatabaseLength"] = (col.max_length or 0) * 2
    elif kind in (Kind.INTEGER, Kind.DECIMAL, Kind.MONEY):
        shape["MinValue"] = col.min_value
        shape["MaxValue"] = col.max_value
        if kind is not Kind.INTEGER:
            shape["Precision"] = col.precision
    elif kind is Kind.DATETIME:
        shape["Format"] = "DateOnly" if col.date_only else "DateAndTime"
        shape["DateTimeBehavior"] = {"Value": "DateOnly" if col.date_only else "UserLocal"}
    elif col.is_lookup:
        shape["Targets"] = list(col.targets)
    if kind is Kind.BOOLEAN:
        shape["DefaultValue"] = col.default
    elif kind is Kind.PICKLIST:
        shape["DefaultFormValue"] = col.default if col.default is not None else -1
    if with_options and kind in (Kind.PICKLIST, Kind.STATE, Kind.STATUS, Kind.BOOLEAN):
        shape["OptionSet"] = option_set(t, col)
    return shape


def option_set(t: TableDef, col: Column) -> dict[str, Any]:
    base: dict[str, Any] = {
        "MetadataId": metadata_id("optionset", t.name, col.name),
        "Name": f"{t.name}_{col.name}",
        "IsGlobal": False,
        "OptionSetType": {Kind.BOOLEAN: "Boolean", Kind.STATE: "State", Kind.STATUS: "Status"}.get(
            col.kind, "Picklist"
        ),
    }
    if col.kind is Kind.BOOLEAN:
        base["TrueOption"] = {"Value": 1, "Label": label(col.options.get(1, "Yes"))}
        base["FalseOption"] = {"Value": 0, "Label": label(col.options.get(0, "No"))}
        return base
    options = []
    for value, text in col.options.items():
        option: dict[str, Any] = {"Value": value, "Label": label(text), "Color": None}
        if col.kind is Kind.STATUS:
            option["State"] = col.state_of.get(value)
        if col.kind is Kind.STATE and t.default_status:
            option["DefaultStatus"] = t.default_status.get(value)
        options.append(option)
    base["Options"] = options
    return base


def key_shape(k: KeyDef) -> dict[str, Any]:
    return {
        "MetadataId": k.metadata_id,
        "LogicalName": k.logical_name,
        "SchemaName": k.schema_name,
        "EntityLogicalName": k.table,
        "KeyAttributes": list(k.attributes),
        "EntityKeyIndexStatus": str(k.status),
        "IsManaged": False,
        "DisplayName": label(k.label or k.schema_name),
    }
